"""Load throughput of the ml100k graph and KGCN Book-Crossing into Neo4j and the embedded store,
and of first loads through Neo4j's offline bulk importer.

For every (dataset, store, batch size) the loader runs ``--repeats`` times into an empty store
and the medians are reported, plus one more run under tracemalloc for the peak Python heap.
Rates count what the store's upserts do (validation, id checks and writes), timed inside
``upsert_nodes`` (nodes/s) and ``upsert_interactions`` + ``upsert_triples`` (relationships/s);
``seconds`` is the whole load call, file parsing included.

    python benchmarks/load_throughput.py       # starts and stops docker/neo4j.sh
    NEO4J_URI=bolt://127.0.0.1:7687 python benchmarks/load_throughput.py --repeats 1
    python benchmarks/load_throughput.py --parts bulk      # the bulk part only

The bulk part (``"bulk"`` in the result) loads each dataset, and a generated graph of
``--generated`` relationships, into the embedded store, then times a first load into a new
Neo4j home end to end: CSV files written, ``neo4j-admin database import full`` (its JVM start
included, through ``docker/neo4j.sh admin``), the server started on the result, and the schema
(constraints, indexes) built and online. Beside it, the transactional path writes the same
records into an empty database of a running server (upserts, batch 5,000); on the generated
graph, a prefix of ``--transactional-relationships`` of them. The generated graph is then
imported ``--bulk-repeats`` more times with kgrec's importer settings and with the importer's
own defaults, interleaved (:func:`importer_runs`); their median checks the target.

Writes ``benchmarks/results/load.json`` (a part that did not run keeps the keys the file had)
and prints a table. Loading has no randomness; the generated graph is seeded by ``--seed``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import tracemalloc
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Callable
from unittest.mock import patch

import numpy as np
from _env import RESULTS, ROOT, SHARED, machine, neo4j_server, versions, write_result
from rich.console import Console
from rich.table import Table

from kgrec import GraphStore, Interaction, MemoryGraphStore, Neo4jGraphStore, NodeRecord, Triple
from kgrec.graph.bulk_import import DEFAULT_OFF_HEAP, await_schema, bulk_import
from kgrec.loaders import LoadReport, load_kgcn, load_movielens100k

TARGET_NEO4J_RELS_PER_S = 50_000
TARGET_EMBEDDED_SPEEDUP = 5.0
TARGET_BULK_RELS_PER_S = 200_000
NEO4J_SCRIPT = ROOT / "docker" / "neo4j.sh"

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


def generated_graph(relationships: int, seed: int) -> MemoryGraphStore:
    """A recommender-shaped random graph of exactly ``relationships`` relationships: 60% rated
    interactions (users x items, every split) and 40% item -> entity triples over 10 relations;
    1 user per 24 interactions, 1 item per 60, 1 entity per 40 triples."""
    rng = np.random.default_rng(seed)
    n_inter = relationships * 3 // 5
    n_triples = relationships - n_inter
    users, items, entities = n_inter // 24, n_inter // 60, n_triples // 40

    def pairs(n: int, heads: int, tails: int) -> np.ndarray:
        codes = np.unique(rng.integers(0, heads * tails, size=int(n * 1.1)))
        return rng.permutation(codes)[:n]

    store = MemoryGraphStore()
    store.upsert_nodes("User", (NodeRecord(f"u{k}", f"user {k}") for k in range(users)))
    store.upsert_nodes(
        "Item",
        (NodeRecord(str(k), f"item {k}", f"Item {k}", {"year": 1950 + k % 70}) for k in range(items)),
    )
    store.upsert_nodes("Entity", (NodeRecord(f"e{k}", name=f"Entity {k}") for k in range(entities)))
    codes = pairs(n_inter, users, items)
    ratings = rng.integers(1, 6, size=n_inter).tolist()
    stamps = rng.integers(8 * 10**8, 9 * 10**8, size=n_inter).tolist()
    splits = rng.choice(np.array(["train", "valid", "test"]), size=n_inter, p=[0.8, 0.1, 0.1]).tolist()
    store.upsert_interactions(
        Interaction(f"u{c // items}", str(c % items), float(r), 1.0, t, sp)
        for c, r, t, sp in zip(codes.tolist(), ratings, stamps, splits)
    )
    relations = [f"relation_{k}" for k in range(10)]
    codes = pairs(n_triples, items, entities)
    kinds = rng.integers(0, len(relations), size=n_triples).tolist()
    store.upsert_triples(
        Triple(str(c // entities), relations[k], f"e{c % entities}", "Item", "Entity")
        for c, k in zip(codes.tolist(), kinds)
    )
    return store


def loaded(load: Load) -> MemoryGraphStore:
    """A new embedded store with ``load``'s dataset in it."""
    store = MemoryGraphStore()
    load(store, 5_000)
    return store


def _script(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["bash", str(NEO4J_SCRIPT), *args], capture_output=True, text=True, env={**os.environ, **env}
    )
    if done.returncode != 0:
        raise RuntimeError(f"neo4j.sh {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def bulk_first_load(store: MemoryGraphStore) -> dict:
    """A first load of ``store``'s graph into a new Neo4j home, end to end (see the module
    docstring), each step timed; the home is deleted after."""
    home = Path(tempfile.mkdtemp(prefix="kgrec-bulk-home-"))
    state = Path(tempfile.mkdtemp(prefix="kgrec-bulk-state-"))
    env = {"KGREC_NEO4J_STATE": str(state), "KGREC_NEO4J_DATA": str(home)}
    try:
        report = bulk_import(store, home, admin=("bash", str(NEO4J_SCRIPT), "admin"))
        for attempt in range(2):  # a server once died at startup with an empty log: retry once
            start = time.perf_counter()
            try:
                uri = _script("start", env=env).strip().splitlines()[-1].split("=", 1)[1]
                break
            except RuntimeError as exc:
                if attempt:
                    raise
                print(f"retrying the start after: {exc}")
        started = time.perf_counter()
        with Neo4jGraphStore.connect(uri) as neo4j:  # applies the schema
            await_schema(neo4j)
            schema_done = time.perf_counter()
            assert neo4j.stats() == store.stats(), "the imported graph differs"
    finally:
        with contextlib.suppress(RuntimeError):
            _script("stop", env=env)
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)
        Path(f"{state}.lock").unlink(missing_ok=True)  # neo4j.sh's flock file
    seconds = report.seconds + schema_done - start
    rels = report.relationships
    return {
        "nodes": sum(report.nodes.values()),
        "relationships": rels,
        "files_seconds": round(report.files_seconds, 2),
        "import_seconds": round(report.import_seconds, 2),
        "server_start_seconds": round(started - start, 2),
        "schema_seconds": round(schema_done - started, 2),
        "seconds": round(seconds, 2),
        "relationships_per_s": round(rels / seconds),
        "import_relationships_per_s": round(rels / report.seconds),
    }


#: The two ways the importer runs in :func:`importer_runs`: environment, importer options.
IMPORTER_SETUPS = {
    # bulk_import's defaults: docker/neo4j.sh's class-data archive, the DEFAULT_OFF_HEAP budget
    "kgrec": ({}, ()),
    # the importer as it comes: no archive, its default budget (90% of free memory)
    "importer_defaults": ({"KGREC_NEO4J_CDS": "0"}, ("--max-off-heap-memory=90%",)),
}


def importer_runs(store: MemoryGraphStore, repeats: int) -> dict:
    """``store``'s graph bulk-imported ``repeats`` times by each of :data:`IMPORTER_SETUPS`,
    interleaved, into new homes: CSV files written + neo4j-admin run (JVM start included), no
    server. A first kgrec run before them, which creates the class-data archive when there is
    none, is reported apart."""

    def run(setup: str) -> dict:
        env, options = IMPORTER_SETUPS[setup]
        home = Path(tempfile.mkdtemp(prefix="kgrec-bulk-home-"))
        try:
            with patch.dict(os.environ, env):
                report = bulk_import(
                    store, home, admin=("bash", str(NEO4J_SCRIPT), "admin"), options=options
                )
        finally:
            shutil.rmtree(home, ignore_errors=True)
        return {
            "files_seconds": round(report.files_seconds, 2),
            "import_seconds": round(report.import_seconds, 2),
            "relationships_per_s": round(report.relationships / report.seconds),
        }

    first = run("kgrec")
    runs: dict[str, list[dict]] = {setup: [] for setup in IMPORTER_SETUPS}
    for _ in range(repeats):
        for setup in IMPORTER_SETUPS:
            runs[setup].append(run(setup))
            print(f"bulk import, {setup}: {runs[setup][-1]}")
    medians = {
        setup: {k: round(statistics.median(r[k] for r in rows), 2) for k in rows[0]}
        for setup, rows in runs.items()
    }
    return {
        "first_run": first,
        "runs": runs,
        "median": medians,
        "speedup_over_importer_defaults": round(
            medians["kgrec"]["relationships_per_s"]
            / medians["importer_defaults"]["relationships_per_s"],
            2,
        ),
        "setups": {
            "kgrec": "bulk_import as it comes: docker/neo4j.sh admin maps a class-data archive "
            f"(made once, before the first import), --max-off-heap-memory={DEFAULT_OFF_HEAP}",
            "importer_defaults": "KGREC_NEO4J_CDS=0 (no archive), --max-off-heap-memory=90% "
            "(the importer's default)",
        },
    }


def transactional_load(store: MemoryGraphStore, neo4j: Neo4jGraphStore, limit: int | None) -> dict:
    """The same records written by the store's upserts (batch 5,000) into ``neo4j``, emptied
    first: all of them, or the first ``limit`` relationships (interactions, then triples) with
    every node. The server is running already: its start is not counted; the rate counts the
    relationship upserts' time only, as the sweep does."""
    nodes, interactions, triples = store.records()
    if limit is not None:
        interactions = interactions[:limit]
        triples = triples[: max(0, limit - len(interactions))]
    neo4j.clear()
    start = time.perf_counter()
    for label, group in nodes.items():
        neo4j.upsert_nodes(label, group)
    nodes_done = time.perf_counter()
    neo4j.upsert_interactions(interactions)
    neo4j.upsert_triples(triples)
    done = time.perf_counter()
    rels = len(interactions) + len(triples)
    neo4j.clear()
    return {
        "nodes": sum(len(g) for g in nodes.values()),
        "relationships": rels,
        "seconds": round(done - start, 2),
        "relationships_per_s": round(rels / (done - nodes_done)),
    }


def bulk_part(
    neo4j: Neo4jGraphStore, generated: int, transactional_limit: int, seed: int, repeats: int
) -> dict:
    """``{"first_load": {dataset: ...}, "transactional": {dataset: ...}, "importer_runs":
    ...}`` for every dataset and the generated graph (``generated_<n>``), whose
    :func:`importer_runs` median checks the target."""
    sources: dict[str, Callable[[], MemoryGraphStore]] = {
        name: partial(loaded, load) for name, load in datasets(SHARED).items()
    }
    big = f"generated_{generated // 10**6}m" if generated % 10**6 == 0 else f"generated_{generated}"
    sources[big] = partial(generated_graph, generated, seed)
    first, transactional = {}, {}
    for name, make in sources.items():
        start = time.perf_counter()
        store = make()
        embedded = round(time.perf_counter() - start, 1)
        first[name] = {**bulk_first_load(store), "embedded_load_seconds": embedded}
        limit = transactional_limit if name == big else None
        transactional[name] = transactional_load(store, neo4j, limit)
        if name == big:
            repeated = importer_runs(store, repeats)
        print(
            f"{name}: bulk {first[name]['relationships_per_s']:,} rels/s end to end, "
            f"transactional {transactional[name]['relationships_per_s']:,} rels/s"
        )
        del store
    rate = repeated["median"]["kgrec"]["relationships_per_s"]
    return {
        "first_load": first,
        "transactional": transactional,
        "importer_runs": repeated,
        "generated": big,
        "target_relationships_per_s": TARGET_BULK_RELS_PER_S,
        "meets_target": rate >= TARGET_BULK_RELS_PER_S,
        "target_checked_on": "importer_runs.median.kgrec.relationships_per_s (the generated "
        "graph): records to store files on disk, i.e. CSV files written + neo4j-admin run, its "
        "JVM start included, median of the repeats; a transactional load needs a running "
        "server too, so the server start is not in it",
        "method": "first_load: embedded store -> CSV files -> neo4j-admin database import full "
        "(new JVM, docker/neo4j.sh admin) -> server start -> schema online; seconds and "
        "relationships_per_s cover all of it, import_relationships_per_s the files and the "
        "importer only. transactional: the same records by upserts (batch 5000) into a running "
        f"server, generated graph cut to its first {transactional_limit:,} relationships.",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1_000, 5_000, 20_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--stores", nargs="+", default=["neo4j", "embedded"], choices=["neo4j", "embedded"]
    )
    parser.add_argument("--parts", nargs="+", default=["sweep", "bulk"], choices=["sweep", "bulk"])
    parser.add_argument("--generated", type=int, default=2_000_000)
    parser.add_argument("--transactional-relationships", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--bulk-repeats", type=int, default=5, help="importer runs of each setup, generated graph"
    )
    args = parser.parse_args()

    path = RESULTS / "load.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    info = {"machine": machine()}
    factories: dict[str, Callable[[], GraphStore]] = {"embedded": MemoryGraphStore}
    GraphStore.progress_threshold = 10**12  # no progress bars inside timed loads
    sweep = []
    with contextlib.ExitStack() as stack:
        neo4j = None
        if "neo4j" in args.stores or "bulk" in args.parts:
            neo4j = Neo4jGraphStore.connect(stack.enter_context(neo4j_server()))
            stack.callback(neo4j.close)
            factories["neo4j"] = partial(emptied, neo4j)
        for dataset, load in datasets(SHARED).items() if "sweep" in args.parts else ():
            for store in args.stores:
                for batch_size in args.batch_sizes:
                    measured = measure(factories[store], load, batch_size, args.repeats)
                    sweep.append({"dataset": dataset, "store": store, **measured})
                    rate = measured["relationships_per_s"]
                    print(f"{dataset} {store} batch {batch_size}: {rate:,} rels/s")
        if "bulk" in args.parts:
            result["bulk"] = bulk_part(
                neo4j, args.generated, args.transactional_relationships, args.seed,
                args.bulk_repeats,
            )
        info["versions"] = versions(
            "neo4j", "rdflib", "numpy", driver=neo4j.driver if neo4j else None
        )
    info["versions"]["neo4j_rust_ext"] = importlib.util.find_spec("neo4j._rust") is not None
    info["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]

    if "sweep" in args.parts:
        summary = {s: best(sweep, "ml100k", s) for s in args.stores}
        result.update(
            {
                s: {k: v for k, v in row.items() if k not in ("dataset", "store")}
                for s, row in summary.items()
            }
        )
        result["targets"] = targets(summary)
        result["repeats"] = args.repeats
        result["sweep"] = sweep
    if "bulk" in args.parts:
        result.setdefault("targets", {})["bulk_generated_at_least_200k_relationships_per_s"] = (
            result["bulk"]["meets_target"]
        )
    if "sweep" not in args.parts and "machine" in result:  # the sweep kept was measured there
        result["sweep_machine"] = result.get("sweep_machine", result["machine"])
    result.update(info)
    result["data"] = {
        "ml100k": "shared/data/movielens-100k + movielens-dbpedia-kg (KG), "
        "shared/benchmarks/ml100k/split.tsv (interactions)",
        "bookcrossing": "shared/data/kgcn-book-crossing (label-0 rows skipped)",
        "generated": "generated_graph() in this script, --generated relationships, --seed",
    }
    result["seed"] = args.seed
    result["parts_run"] = args.parts
    path = write_result("load", result)
    if sweep:
        print_table(sweep)
    print(f"targets: {result.get('targets')}  ->  {path}")


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
