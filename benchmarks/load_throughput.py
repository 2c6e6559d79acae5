"""Load throughput of the ml100k graph and KGCN Book-Crossing into Neo4j and the embedded store.

For every (dataset, store, batch size) the loader runs ``--repeats`` times into an empty store
and the medians are reported, plus one more run under tracemalloc for the peak Python heap.
Rates count what the store's upserts do (validation, id checks and writes), timed inside
``upsert_nodes`` (nodes/s) and ``upsert_interactions`` + ``upsert_triples`` (relationships/s);
``seconds`` is the whole load call, file parsing included.

    python benchmarks/load_throughput.py       # starts and stops docker/neo4j.sh
    NEO4J_URI=bolt://127.0.0.1:7687 python benchmarks/load_throughput.py --repeats 1

Writes ``benchmarks/results/load.json`` and prints a table. Loading has no randomness; the
seed is recorded only because every result file carries one.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import statistics
import time
import tracemalloc
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Callable

from _env import SHARED, machine, neo4j_server, versions, write_result
from rich.console import Console
from rich.table import Table

from kgrec import GraphStore, MemoryGraphStore, Neo4jGraphStore
from kgrec.loaders import LoadReport, load_kgcn, load_movielens100k

TARGET_NEO4J_RELS_PER_S = 50_000
TARGET_EMBEDDED_SPEEDUP = 5.0

Load = Callable[[GraphStore, int], LoadReport]


def datasets(shared: Path) -> dict[str, Load]:
    """``{name: load(store, batch_size)}``; ``shared`` is the workplace's ``shared`` folder."""
    data = shared / "data"
    return {
        "ml100k": lambda store, batch: load_movielens100k(
            store,
            data / "movielens-100k",
            kg_dir=data / "movielens-dbpedia-kg",
            split_file=shared / "benchmarks" / "ml100k" / "split.tsv",
            batch_size=batch,
        ),
        "bookcrossing": lambda store, batch: load_kgcn(
            store, data / "kgcn-book-crossing", batch_size=batch
        ),
    }


@dataclass(frozen=True)
class Run:
    seconds: float
    node_seconds: float
    relationship_seconds: float
    nodes: int
    relationships: int


def _timed(store: GraphStore, spent: dict[str, float]) -> None:
    """Wrap the store's upserts (on this instance only) to add their time to ``spent``."""
    for method, kind in (
        ("upsert_nodes", "nodes"),
        ("upsert_interactions", "relationships"),
        ("upsert_triples", "relationships"),
    ):
        original = getattr(type(store), method).__get__(store)  # not an earlier wrapper

        def timed(*args, _original=original, _kind=kind, **kwargs):
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_kind] += time.perf_counter() - start

        setattr(store, method, timed)


def emptied(store: GraphStore) -> GraphStore:
    store.clear()
    return store


def run_once(store: GraphStore, load: Load, batch_size: int) -> Run:
    spent = {"nodes": 0.0, "relationships": 0.0}
    _timed(store, spent)
    start = time.perf_counter()
    report = load(store, batch_size)
    seconds = time.perf_counter() - start
    return Run(
        seconds,
        spent["nodes"],
        spent["relationships"],
        sum(report.nodes.values()),
        report.interactions + report.triples,
    )


def peak_heap_mb(store: GraphStore, load: Load, batch_size: int) -> float:
    tracemalloc.start()
    try:
        load(store, batch_size)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def measure(
    make_store: Callable[[], GraphStore], load: Load, batch_size: int, repeats: int
) -> dict:
    runs = [run_once(make_store(), load, batch_size) for _ in range(repeats)]
    median = {k: statistics.median(getattr(r, k) for r in runs) for k in asdict(runs[0])}
    return {
        "batch_size": batch_size,
        "nodes": runs[0].nodes,
        "relationships": runs[0].relationships,
        "seconds": round(median["seconds"], 3),
        "nodes_per_s": round(runs[0].nodes / median["node_seconds"]),
        "relationships_per_s": round(runs[0].relationships / median["relationship_seconds"]),
        "peak_heap_mb": round(peak_heap_mb(make_store(), load, batch_size), 1),
        "runs_seconds": [round(r.seconds, 3) for r in runs],
    }


def print_table(sweep: list[dict]) -> None:
    table = Table(title="Load throughput (medians)")
    for column in (
        "dataset",
        "store",
        "batch",
        "nodes",
        "rels",
        "seconds",
        "nodes/s",
        "rels/s",
        "peak MiB",
    ):
        table.add_column(column, justify="left" if column in ("dataset", "store") else "right")
    for row in sweep:
        table.add_row(
            row["dataset"],
            row["store"],
            f"{row['batch_size']:,}",
            f"{row['nodes']:,}",
            f"{row['relationships']:,}",
            f"{row['seconds']:.2f}",
            f"{row['nodes_per_s']:,}",
            f"{row['relationships_per_s']:,}",
            f"{row['peak_heap_mb']:.0f}",
        )
    Console(width=120).print(table)


def best(sweep: list[dict], dataset: str, store: str) -> dict:
    rows = [r for r in sweep if r["dataset"] == dataset and r["store"] == store]
    return max(rows, key=lambda r: r["relationships_per_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1_000, 5_000, 20_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--stores", nargs="+", default=["neo4j", "embedded"], choices=["neo4j", "embedded"]
    )
    args = parser.parse_args()

    info = {"machine": machine()}
    factories: dict[str, Callable[[], GraphStore]] = {"embedded": MemoryGraphStore}
    GraphStore.progress_threshold = 10**12  # no progress bars inside timed loads
    sweep = []
    with contextlib.ExitStack() as stack:
        neo4j = None
        if "neo4j" in args.stores:
            neo4j = Neo4jGraphStore.connect(stack.enter_context(neo4j_server()))
            stack.callback(neo4j.close)
            factories["neo4j"] = partial(emptied, neo4j)
        for dataset, load in datasets(SHARED).items():
            for store in args.stores:
                for batch_size in args.batch_sizes:
                    result = measure(factories[store], load, batch_size, args.repeats)
                    sweep.append({"dataset": dataset, "store": store, **result})
                    rate = result["relationships_per_s"]
                    print(f"{dataset} {store} batch {batch_size}: {rate:,} rels/s")
        info["versions"] = versions(
            "neo4j", "rdflib", "numpy", driver=neo4j.driver if neo4j else None
        )
    info["versions"]["neo4j_rust_ext"] = importlib.util.find_spec("neo4j._rust") is not None
    info["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]

    summary = {s: best(sweep, "ml100k", s) for s in args.stores}
    result = {
        **{
            s: {k: v for k, v in row.items() if k not in ("dataset", "store")}
            for s, row in summary.items()
        },
        "targets": targets(summary),
        **info,
        "data": {
            "ml100k": "shared/data/movielens-100k + movielens-dbpedia-kg (KG), "
            "shared/benchmarks/ml100k/split.tsv (interactions)",
            "bookcrossing": "shared/data/kgcn-book-crossing (label-0 rows skipped)",
        },
        "seed": 0,
        "repeats": args.repeats,
        "sweep": sweep,
    }
    path = write_result("load", result)
    print_table(sweep)
    print(f"targets: {result['targets']}  ->  {path}")


def targets(summary: dict[str, dict]) -> dict:
    """The issue's targets, checked on the ml100k rows of ``summary``."""
    if "neo4j" not in summary:
        return {}
    neo4j_rate = summary["neo4j"]["relationships_per_s"]
    found: dict = {"neo4j_relationships_per_s_at_least_50k": neo4j_rate >= TARGET_NEO4J_RELS_PER_S}
    if "embedded" in summary:
        speedup = summary["embedded"]["relationships_per_s"] / neo4j_rate
        found["embedded_speedup"] = round(speedup, 1)
        found["embedded_at_least_5x"] = speedup >= TARGET_EMBEDDED_SPEEDUP
    return found


if __name__ == "__main__":
    main()
