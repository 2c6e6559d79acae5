"""Load test of the REST service: ``kgrec serve`` with 2 workers on ml100k, on the embedded store
and on Neo4j, with a Neo4j outage in the middle of a run.

    python benchmarks/serve.py [--requests 600] [--concurrency 4] [--time-limit 180]
                               [--feedback 40] [--outage 5] [--checkpoint runs/explain]
                               [--skip-neo4j]

For each store: the graph is loaded (the embedded store into a fresh folder, Neo4j into a server
of its own started with ``docker/neo4j.sh``), ``kgrec serve`` starts on a free port of 127.0.0.1
as a subprocess (``--workers 2``, one torch thread each) serving ``--checkpoint``, and a client
with ``--concurrency`` threads sends a fixed number of requests within a time limit:

- steady load: ``GET /users/{u}/recommendations?k=10&explain=true`` for random users, after
  untimed warm-up requests: requests/s, p50/p99 latency of the successful ones, errors
  (anything but 200, or no answer);
- feedback: ``--feedback`` likes of random unseen (user, item) pairs through ``POST /feedback``;
  each is followed by two reads of that user's top 50 (whichever worker answers), which must
  leave the liked item out (``stale_reads`` counts those that do not), and after the run the
  store must hold every acknowledged event (``feedback_lost`` counts those it does not);
- Neo4j outage (Neo4j only, not with ``NEO4J_URI``): the same reads run while the server is
  stopped (``neo4j.sh stop --keep-data``), left down ``--outage`` seconds and started again.
  A request overlapping the outage may fail (it must be a 503 problem); ``errors`` counts
  failures outside it and ``errors_after_recovery`` those started once the server was back.
  The feedback written before the outage is checked after it.

``benchmarks/results/serve.json`` gets the issue's shape (``neo4j``, ``embedded``, and
``feedback`` copied from ``benchmarks/results/feedback.json`` when that benchmark has run) plus
machine and versions. The load is bounded on purpose: the box has 2 shared cores.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import logging
import os
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import httpx

from _env import RESULTS, ROOT, machine, neo4j_server, versions, write_result
from explain import load
from kgrec import GraphStore, MemoryGraphStore, Neo4jGraphStore

log = logging.getLogger("benchmarks.serve")
KEY = "benchmark-key"
K = 10
NEO4J_STATE = "/tmp/kgrec-neo4j-serve-bench"
NEO4J_SCRIPT = ROOT / "docker" / "neo4j.sh"
NEO4J_TIMEOUT = 5.0


@dataclass(frozen=True)
class Outcome:
    """One request: when it started and ended (monotonic seconds) and its status (0: no answer)."""

    start: float
    end: float
    status: int
    title: str | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def service(settings: dict[str, str], startup_timeout: float = 600) -> Iterator[str]:
    """``kgrec serve`` configured by ``settings`` (``KGREC_*`` variables) on a free port; yields
    its URL once ``/health`` answers 200, terminates it after."""
    port = free_port()
    env = {**os.environ, **settings, "KGREC_PORT": str(port), "KGREC_WORKERS": "2", "KGREC_API_KEYS": KEY}
    logfile = tempfile.NamedTemporaryFile("w+", prefix="kgrec-serve-", suffix=".log", delete=False)
    server = subprocess.Popen([shutil.which("kgrec") or "kgrec", "serve"], env=env, stdout=logfile, stderr=logfile)
    url = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"kgrec serve exited with {server.returncode}; log: {logfile.name}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/health", timeout=10).status_code == 200:
                    break
            if time.monotonic() - started > startup_timeout:
                raise RuntimeError(f"kgrec serve not healthy after {startup_timeout:.0f}s; log: {logfile.name}")
            time.sleep(1)
        log.info("kgrec serve healthy after %.1fs at %s (log %s)", time.monotonic() - started, url, logfile.name)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=120)


def recommend(client: httpx.Client, user: str) -> Outcome:
    start = time.monotonic()
    try:
        response = client.get(f"/users/{user}/recommendations", params={"k": K, "explain": "true"})
    except httpx.TransportError:
        return Outcome(start, time.monotonic(), 0)
    title = None if response.status_code == 200 else response.json().get("title")
    return Outcome(start, time.monotonic(), response.status_code, title)


def run_load(
    url: str, users: list[str], concurrency: int, limit: int | None, seconds: float, stop: threading.Event | None = None
) -> tuple[list[Outcome], float]:
    """``limit`` requests (``None``: until ``stop`` is set) over ``concurrency`` threads, for at
    most ``seconds``; the outcomes and the wall time."""
    counter = itertools.count()
    outcomes: list[Outcome] = []
    deadline = time.monotonic() + seconds

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            while time.monotonic() < deadline and not (stop is not None and stop.is_set()):
                n = next(counter)
                if limit is not None and n >= limit:
                    return
                outcomes.append(recommend(client, users[n % len(users)]))

    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    return outcomes, time.monotonic() - started


def summary(outcomes: list[Outcome], seconds: float) -> dict:
    ok = sorted(o.end - o.start for o in outcomes if o.status == 200)
    quantiles = statistics.quantiles(ok, n=100, method="inclusive") if len(ok) > 1 else [float("nan")] * 99
    return {
        "requests": len(outcomes),
        "seconds": round(seconds, 2),
        "rps": round(len(ok) / seconds, 2),
        "p50_ms": round(quantiles[49] * 1000, 1),
        "p99_ms": round(quantiles[98] * 1000, 1),
        "errors": sum(o.status != 200 for o in outcomes),
    }


def feedback_pairs(store: GraphStore, rng: random.Random, count: int) -> list[tuple[str, str]]:
    """``count`` (user, item) pairs without an interaction, each user once."""
    snapshot = store.snapshot()
    users, items = snapshot.node_ids["user"], snapshot.node_ids["item"]
    seen = snapshot.interactions.items_by_user(len(users))
    pairs = []
    for u in rng.sample(range(len(users)), count):
        had = set(seen[u].tolist())
        pairs.append((users[u], items[rng.choice([i for i in range(len(items)) if i not in had])]))
    return pairs


def send_feedback(url: str, pairs: list[tuple[str, str]]) -> dict:
    """Like each pair, then read the user's top 50 twice; the acknowledged pairs and counts."""
    acknowledged, stale, failures, seconds = [], 0, Counter(), []
    with httpx.Client(base_url=url, timeout=60, headers={"X-API-Key": KEY}) as client:
        for user, item in pairs:
            start = time.monotonic()
            response = client.post("/feedback", json={"user_id": user, "item_id": item, "kind": "like"})
            seconds.append(time.monotonic() - start)
            if response.status_code != 201:
                failures[response.status_code] += 1
                continue
            acknowledged.append((user, item))
            for _ in range(2):
                top = client.get(f"/users/{user}/recommendations", params={"k": 50, "explain": "false"}).json()["items"]
                stale += item in {r["item_id"] for r in top}
    return {
        "acknowledged": acknowledged,
        "stale_reads": stale,
        "failed": dict(failures),
        "p50_ms": round(statistics.median(seconds) * 1000, 1) if seconds else None,
    }


def lost(store: GraphStore, acknowledged: list[tuple[str, str]]) -> int:
    """How many acknowledged (user, item) likes the store does not hold as feedback."""
    stored = store.user_interactions(sorted({u for u, _ in acknowledged}))
    held = {(u, r.item) for u, rows in stored.items() for r in rows if r.kind == "like"}
    return sum(pair not in held for pair in acknowledged)


def store_figures(url: str, users: list[str], pairs: list[tuple[str, str]], args: argparse.Namespace) -> tuple[dict, list]:
    """Steady load, then the feedback round; the figures and the acknowledged pairs."""
    run_load(url, users[::-1], args.concurrency, args.warmup, args.time_limit)  # untimed warm-up
    outcomes, seconds = run_load(url, users, args.concurrency, args.requests, args.time_limit)
    figures = summary(outcomes, seconds)
    figures["error_titles"] = dict(Counter(o.title or str(o.status) for o in outcomes if o.status != 200))
    sent = send_feedback(url, pairs)
    figures["feedback"] = {k: v for k, v in sent.items() if k != "acknowledged"} | {"sent": len(pairs)}
    return figures, sent["acknowledged"]


def script(*args: str) -> None:
    env = {**os.environ, "KGREC_NEO4J_STATE": NEO4J_STATE}
    subprocess.run(["bash", str(NEO4J_SCRIPT), *args], check=True, env=env, capture_output=True, timeout=600)


def outage(url: str, users: list[str], args: argparse.Namespace) -> dict:
    """Reads while Neo4j is stopped, left down ``args.outage`` s and started again."""
    stop = threading.Event()
    result: dict = {}

    def load_in_background() -> None:
        result["outcomes"], result["seconds"] = run_load(url, users, args.concurrency, None, args.time_limit, stop)

    loader = threading.Thread(target=load_in_background)
    loader.start()
    time.sleep(args.before)
    stopping = time.monotonic()
    script("stop", "--keep-data")
    down = time.monotonic()
    time.sleep(args.outage)
    starting = time.monotonic()
    script("start")
    up = time.monotonic()
    time.sleep(args.after)
    stop.set()
    loader.join()
    outcomes = result["outcomes"]
    overlaps = [o.end >= stopping and o.start <= up for o in outcomes]
    during = [o for o, overlap in zip(outcomes, overlaps) if overlap]
    outside = [o for o, overlap in zip(outcomes, overlaps) if not overlap]
    after = [o for o in outcomes if o.start > up]
    failed = [o for o in during if o.status != 200]
    return {
        "stop_seconds": round(down - stopping, 1),
        "down_seconds": round(starting - down, 1),
        "start_seconds": round(up - starting, 1),
        "requests": len(outcomes),
        "errors": sum(o.status != 200 for o in outside),
        "errors_during_outage": len(failed),
        "errors_during_outage_by_status": dict(Counter(f"{o.status} {o.title}" for o in failed)),
        "slowest_error_ms": round(max((o.end - o.start for o in failed), default=0) * 1000, 1),
        "requests_after_recovery": len(after),
        "errors_after_recovery": sum(o.status != 200 for o in after),
        "after_recovery": summary(after, max(o.end for o in after) - up) if after else None,
    }


def embedded(args: argparse.Namespace, users_of: Callable[[GraphStore], list[str]], rng: random.Random) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="kgrec-serve-graph-"))
    try:
        store = MemoryGraphStore.open(folder)
        load(store)
        store.save()
        users, pairs = users_of(store), feedback_pairs(store, rng, args.feedback)
        settings = {"KGREC_STORE": "memory", "KGREC_GRAPH": str(folder), "KGREC_CHECKPOINT": str(args.checkpoint)}
        with service(settings) as url:
            figures, acknowledged = store_figures(url, users, pairs, args)
        figures["feedback_lost"] = lost(MemoryGraphStore.open(folder), acknowledged)
        return figures
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def on_neo4j(args: argparse.Namespace, users_of: Callable[[GraphStore], list[str]], rng: random.Random) -> dict:
    with neo4j_server(NEO4J_STATE) as uri:
        with Neo4jGraphStore.connect(uri) as store:
            store.clear()
            load(store)
            users, pairs = users_of(store), feedback_pairs(store, rng, args.feedback)
            server_versions = versions("torch", "neo4j", "fastapi", "uvicorn", driver=store.driver)
        settings = {
            "KGREC_STORE": "neo4j", "KGREC_NEO4J_URI": uri, "KGREC_NEO4J_TIMEOUT": str(NEO4J_TIMEOUT),
            "KGREC_CHECKPOINT": str(args.checkpoint),
        }
        with service(settings) as url:
            figures, acknowledged = store_figures(url, users, pairs, args)
            if os.environ.get("NEO4J_URI"):
                figures["outage"] = None  # not our server to stop
            else:
                figures["outage"] = outage(url, users, args)
                figures["errors"] += figures["outage"]["errors"]
                figures["errors_after_recovery"] = figures["outage"]["errors_after_recovery"]
        with Neo4jGraphStore.connect(uri) as store:
            figures["feedback_lost"] = lost(store, acknowledged)
            store.clear()
        figures["versions"] = server_versions
        return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=600, help="timed requests per store")
    ap.add_argument("--warmup", type=int, default=40)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--time-limit", type=float, default=180, help="seconds per load run")
    ap.add_argument("--feedback", type=int, default=40, help="likes written per store")
    ap.add_argument("--outage", type=float, default=5, help="seconds Neo4j stays stopped")
    ap.add_argument("--before", type=float, default=5, help="seconds of load before the outage")
    ap.add_argument("--after", type=float, default=15, help="seconds of load after Neo4j is back")
    ap.add_argument("--checkpoint", type=Path, default=ROOT / "runs" / "explain")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-neo4j", action="store_true")
    args = ap.parse_args()
    args.checkpoint = args.checkpoint.resolve()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    rng = random.Random(args.seed)

    def users_of(store: GraphStore) -> list[str]:
        ids = store.snapshot().node_ids["user"]
        return [rng.choice(ids) for _ in range(args.requests)]

    result: dict = {"machine": machine(), "versions": versions("torch", "neo4j", "fastapi", "uvicorn", "httpx")}
    result["setup"] = {
        "data": "ml100k + DBpedia KG, split ../shared/benchmarks/ml100k/split.tsv",
        "checkpoint": str(args.checkpoint.relative_to(ROOT) if args.checkpoint.is_relative_to(ROOT) else args.checkpoint),
        "request": f"GET /users/{{u}}/recommendations?k={K}&explain=true, random users",
        "workers": 2, "concurrency": args.concurrency, "requests": args.requests, "warmup": args.warmup,
        "time_limit_s": args.time_limit, "neo4j_timeout_s": NEO4J_TIMEOUT, "seed": args.seed,
        "outage": {"down_s": args.outage, "load_before_s": args.before, "load_after_s": args.after},
    }
    result["embedded"] = embedded(args, users_of, rng)
    log.info("embedded: %s", result["embedded"])
    if not args.skip_neo4j:
        result["neo4j"] = on_neo4j(args, users_of, rng)
        result["versions"].update(result["neo4j"].pop("versions"))
        log.info("neo4j: %s", result["neo4j"])
    feedback = RESULTS / "feedback.json"
    if feedback.is_file():
        measured = json.loads(feedback.read_text())
        test = measured.get("test", {})
        result["feedback"] = {k: test.get(k) for k in ("ndcg@10_with", "ndcg@10_without", "update_p99_ms")}
        result["feedback"].update(users=measured.get("users"), source="benchmarks/results/feedback.json (test phase)")
    else:
        result["feedback"] = None  # benchmarks/feedback.py has not run
    print(json.dumps({k: result[k] for k in ("embedded", "neo4j", "feedback") if k in result}, indent=1))
    print(f"wrote {write_result('serve', result)}")


if __name__ == "__main__":
    main()
