"""Exporting a snapshot from Neo4j: seconds and peak memory on the generated 10^6-interaction graph.

The graph (:mod:`_generated`, seeded: ``GeneratedGraph.generate(--interactions, --seed)``) is
written into an empty database of a server started by ``docker/neo4j.sh`` (through
``_env.neo4j_server``, or ``NEO4J_URI``) with the store's transactional upserts
(``GeneratedGraph.load``); the load is not timed. Then ``Neo4jGraphStore.snapshot()`` runs
``--repeats`` times and the median is reported.

Memory is the process's resident set: before each export the kernel's high-water mark is reset
(``5`` written to ``/proc/self/clear_refs``), and ``VmHWM`` in ``/proc/self/status`` after it is
the exact peak of the export (no sampling gaps); ``peak_growth_mb`` is that peak minus
``VmRSS`` just before the export. The server's memory (a separate JVM) is not counted.

    python benchmarks/snapshot_export.py
    NEO4J_URI=bolt://127.0.0.1:7687 python benchmarks/snapshot_export.py --repeats 1

Writes ``"after"`` (the current code, pages of :data:`~kgrec.graph.neo4j_snapshot.SNAPSHOT_PAGE`
nodes) into ``benchmarks/results/snapshot_export.json`` and prints it beside ``"before"``: the
same measurement taken once, with this script, on the code before the export was paged (commit
a5380c3: one query per part, ``Snapshot.build`` sorting Python tuples), kept from the file.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time
from pathlib import Path

from _env import RESULTS, machine, neo4j_server, status_mb, versions, write_result
from _generated import RELATIONS, GeneratedGraph
from rich.console import Console
from rich.table import Table

from kgrec import GraphStore, Neo4jGraphStore
from kgrec.graph.neo4j_snapshot import SNAPSHOT_PAGE
from kgrec.graph.snapshot import Snapshot

def reset_peak_rss() -> None:
    """Reset the kernel's resident-set high-water mark (``VmHWM``) to the current RSS."""
    Path("/proc/self/clear_refs").write_text("5")


def expected_counts(graph: GeneratedGraph) -> dict[str, int]:
    return {
        "user": graph.num_users,
        "item": graph.num_items,
        "entity": graph.num_entities,
        "interactions": graph.num_interactions,
        "triples": int(graph.head.size),
    }


def counts(snapshot: Snapshot) -> dict[str, int]:
    return {
        **{t: snapshot.num_nodes(t) for t in ("user", "item", "entity")},
        "interactions": int(snapshot.interactions.user.numel()),
        "triples": sum(int(e.shape[1]) for e in snapshot.triples.values()),
    }


def export_once(store: Neo4jGraphStore, expected: dict[str, int]) -> dict[str, float]:
    """One timed ``store.snapshot()``, checked against the generated graph's counts."""
    gc.collect()
    rss_before = status_mb("VmRSS")
    reset_peak_rss()
    start = time.perf_counter()
    snapshot = store.snapshot()
    seconds = time.perf_counter() - start
    peak = status_mb("VmHWM")
    got = counts(snapshot)
    if got != expected:
        raise AssertionError(f"the snapshot holds {got}, the generated graph {expected}")
    del snapshot
    return {"seconds": seconds, "rss_before_mb": rss_before, "peak_rss_mb": peak}


def measure(store: Neo4jGraphStore, expected: dict[str, int], repeats: int) -> dict:
    runs = [export_once(store, expected) for _ in range(repeats)]
    return {
        "seconds": round(statistics.median(r["seconds"] for r in runs), 2),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs)),
        "peak_growth_mb": round(max(r["peak_rss_mb"] - r["rss_before_mb"] for r in runs)),
        "rows_per_s": round(
            (expected["interactions"] + expected["triples"])
            / statistics.median(r["seconds"] for r in runs)
        ),
        "runs": [{k: round(v, 2) for k, v in r.items()} for r in runs],
    }


def print_table(result: dict) -> None:
    size = result["graph"]["interactions"]
    table = Table(title=f"Snapshot export from Neo4j, {size:,} interactions")
    for column in ("code", "seconds (median)", "rows/s", "peak RSS MiB", "peak growth MiB"):
        table.add_column(column, justify="left" if column == "code" else "right")
    for record in ("before", "after"):
        if record in result:
            row = result[record]
            table.add_row(
                record,
                f"{row['seconds']:.1f}",
                f"{row['rows_per_s']:,}",
                f"{row['peak_rss_mb']:,}",
                f"{row['peak_growth_mb']:,}",
            )
    Console(width=120).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interactions", type=int, default=10**6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    path = RESULTS / "snapshot_export.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    graph = GeneratedGraph.generate(args.interactions, args.seed)
    expected = expected_counts(graph)
    result["graph"] = {"generator": "benchmarks/_generated.py", "seed": args.seed,
                       "relations": list(RELATIONS), **expected}
    GraphStore.progress_threshold = 10**12  # no progress bars in the load or the timed export
    with neo4j_server("/tmp/kgrec-neo4j-bench-snapshot") as uri:
        with Neo4jGraphStore.connect(uri) as store:
            store.clear()
            start = time.perf_counter()
            graph.load(store, progress=False)
            loaded = round(time.perf_counter() - start, 1)
            del graph
            print(f"loaded in {loaded} s; exporting {args.repeats} time(s)")
            load_average = [round(x, 2) for x in os.getloadavg()]
            measured = measure(store, expected, args.repeats)
            info = versions("neo4j", "numpy", "torch", driver=store.driver)
            store.clear()
    result["after"] = {
        **measured,
        "page_size": SNAPSHOT_PAGE,
        "load_seconds": loaded,
        "load": "transactional upserts (GeneratedGraph.load, batches of 200,000 records)",
        "machine": {**machine(), "load_average_before_export": load_average},
        "versions": info,
    }
    result["method"] = (
        "median seconds of --repeats calls of Neo4jGraphStore.snapshot() on the loaded graph; "
        "peak_rss_mb: the process's VmHWM after the export, reset through /proc/self/clear_refs "
        "before it (the exact kernel high-water mark of the Python process, the server's JVM "
        "excluded); peak_growth_mb: that peak minus VmRSS just before the export (max over runs)"
    )
    print(f"wrote {write_result('snapshot_export', result)}")
    print_table(result)


if __name__ == "__main__":
    main()
