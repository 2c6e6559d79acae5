"""Online feedback on ml100k: does replaying a user's held-out interactions as feedback improve
the ranking of what they do next, and how soon is an event served?

    python benchmarks/feedback.py [--users 100] [--seed 0] [--checkpoint runs/explain]
                                  [--dislikes] [--max-steps N]

The store holds the ml100k graph with the shared split's train and valid rows (test rows left
out: they are what gets replayed); the model is ``--checkpoint`` (copied, never modified).
For ``--users`` sampled users (seeded), each user's stream is their held-out positives in
timestamp order, replayed as ``rating`` events with their rating; with ``--dislikes`` the
user's low ratings (<= 2, which the split leaves out) are merged in by timestamp, half of them
(seeded) in the valid phase and half in the test phase. After each event but the last, NDCG@10
of the positives still to come, full ranking, the user's train and valid items masked:

- valid phase (choosing alpha, beta of :class:`kgrec.feedback.FeedbackPolicy`): the valid
  positives replayed, scored through :meth:`OnlineFeedback.term` for a grid of alpha and beta,
  the replayed items masked for every grid point (so the choice rewards the model update only);
- test phase (reported): the test positives replayed through the serving path itself:
  ``Recommender.feedback`` then ``recommend(k=10, explain=True)``, timed together (update
  latency: the event written, the next explained recommendations computed with it). Against
  "without": the model's own ranking by a system that got no feedback (the replayed items not
  masked), and "masking only": the same with the replayed items masked, no model update. The
  gain over "without" is what feedback gives; the gain over "masking only", what the update of
  the user's logits adds to knowing what they consumed.

Writes ``benchmarks/results/feedback.json`` and prints a table. :func:`run` returns the
figures ``benchmarks/serve.py`` reports.
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import torch

from _env import ROOT, SHARED, machine, versions, write_result
from kgrec import MemoryGraphStore, Recommender
from kgrec.cold import Served
from kgrec.feedback import FeedbackEvent, FeedbackPolicy
from kgrec.loaders import load_movielens100k
from kgrec.train.metrics import ranking_metrics

log = logging.getLogger("benchmarks.feedback")
K = 10
SPLIT = SHARED / "benchmarks" / "ml100k" / "split.tsv"
RATINGS = SHARED / "data" / "movielens-100k" / "u.data"
ALPHAS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
BETAS = (0.0, 0.5, 1.0, 2.0, 4.0)


def read_split() -> list[dict]:
    with open(SPLIT, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def low_ratings(rng: random.Random) -> dict[str, dict[str, list[tuple[int, str, float]]]]:
    """``{phase: {user: [(timestamp, item, rating)]}}``: u.data ratings <= 2, each user's
    shuffled in halves between ``valid`` and ``test``."""
    by_user: dict[str, list[tuple[int, str, float]]] = {}
    for line in RATINGS.read_text().splitlines():
        user, item, rating, ts = line.split("\t")
        if float(rating) <= 2:
            by_user.setdefault(user, []).append((int(ts), item, float(rating)))
    phases: dict[str, dict[str, list]] = {"valid": {}, "test": {}}
    for user, rows in sorted(by_user.items()):
        rows = sorted(rows)
        rng.shuffle(rows)
        half = len(rows) // 2
        phases["valid"][user], phases["test"][user] = rows[:half], rows[half:]
    return phases


def streams(rows: list[dict], phase: str, dislikes: dict[str, list] | None) -> dict[str, list[tuple[int, str, float]]]:
    """Per user, the ``phase`` positives (and dislikes), ``(timestamp, item, rating)`` in time order."""
    found: dict[str, list] = {}
    for r in rows:
        if r["split"] == phase:
            found.setdefault(r["user_id"], []).append((int(r["timestamp"]), r["item_id"], float(r["rating"])))
    for user, extra in (dislikes or {}).items():
        if user in found:
            found[user] += extra
    return {u: sorted(s) for u, s in found.items()}


def ndcg_of(top: torch.Tensor, relevant: torch.Tensor) -> float:
    """NDCG@10 of the ranked item rows ``top`` ``[K]`` against the mask ``relevant`` ``[I]``."""
    return float(ranking_metrics(top.unsqueeze(0), relevant.unsqueeze(0), (K,))[f"ndcg@{K}"][0])


def ndcg(logits: torch.Tensor, masked: torch.Tensor, relevant: torch.Tensor) -> float:
    return ndcg_of(torch.topk(logits.masked_fill(masked, -math.inf), K).indices, relevant)


def to_come(stream: list[tuple[int, str, float]], s: int) -> list[str]:
    """The positives (rated >= 4) after the first ``s`` events."""
    return [i for _, i, r in stream[s:] if r >= 4]


def tune(rec: Recommender, stream_of: dict[str, list], users: list[str], max_steps: int | None) -> dict:
    """NDCG@10 on the valid phase for each (alpha, beta) of the grid: the term's two parts
    computed once per step (alpha = 1, beta = 0 and the reverse), then combined linearly."""
    served = Served(rec.model, rec.snapshot)
    items = rec.snapshot.node_ids["item"]
    grid = {(a, b): [] for a in ALPHAS for b in BETAS}
    for user in users:
        stream = stream_of[user]
        base = rec.logits([user])[0]
        trained = [i for i in rec.seen_items(user) if i not in {x for _, x, _ in stream}]
        train = rec.snapshot.index_of("item", trained)
        last = len(stream) if max_steps is None else min(len(stream), max_steps + 1)
        for s in range(1, last):
            fed, coming = stream[:s], to_come(stream, s)
            if not coming:
                break
            events = [FeedbackEvent(user, i, "rating", r, ts, "benchmark") for ts, i, r in fed]
            pos = rec.online.term(served, events, len(trained), FeedbackPolicy(alpha=1.0, beta=0.0))
            neg = rec.online.term(served, events, len(trained), FeedbackPolicy(alpha=0.0, beta=1.0))
            masked = torch.zeros(len(items), dtype=torch.bool)
            masked[train] = True
            masked[rec.snapshot.index_of("item", [i for _, i, _ in fed])] = True
            relevant = torch.zeros_like(masked)
            relevant[rec.snapshot.index_of("item", coming)] = True
            for (a, b), values in grid.items():
                values.append(ndcg(base + a * pos + b * neg, masked, relevant))
    return {f"alpha={a} beta={b}": statistics.fmean(v) for (a, b), v in grid.items() if v}


def replay(rec: Recommender, users: list[str], stream_of, max_steps) -> dict:
    """The test phase through ``feedback`` + ``recommend``: NDCG@10 with feedback, without (the
    model's ranking, the replayed items unknown, so not masked), with the replayed items masked
    but no model update (what masking alone gives), and the update latency."""
    with_fb, without, masking, latency = [], [], [], []
    items = rec.snapshot.node_ids["item"]
    for user in users:
        stream = stream_of[user]
        base = rec.logits([user])[0]
        seen = ~rec.unseen([user])[0]  # train and valid (the store holds no test rows)
        masked = seen.clone()
        for s, (ts, item, rating) in enumerate(stream[:max_steps], start=1):
            start = time.perf_counter()
            rec.feedback(user, item, "rating", value=rating, timestamp=ts, source="benchmark")
            shown = rec.recommend(user, k=K, explain=True)
            latency.append(time.perf_counter() - start)
            masked[rec.snapshot.index_of("item", [item])] = True
            coming = to_come(stream, s)
            if not coming:
                continue
            relevant = torch.zeros(len(items), dtype=torch.bool)
            relevant[rec.snapshot.index_of("item", coming)] = True
            with_fb.append(ndcg_of(rec.snapshot.index_of("item", [r.item_id for r in shown]), relevant))
            masking.append(ndcg(base, masked, relevant))
            without.append(ndcg(base, seen, relevant))
    ms = sorted(1000 * x for x in latency)
    return {
        "ndcg@10_with": statistics.fmean(with_fb),
        "ndcg@10_without": statistics.fmean(without),
        "ndcg@10_masking_only": statistics.fmean(masking),
        "steps": len(with_fb),
        "events": len(latency),
        "update_p50_ms": statistics.median(ms),
        "update_p99_ms": ms[min(len(ms) - 1, math.ceil(0.99 * len(ms)) - 1)],
        "update_max_ms": ms[-1],
    }


def served_store(rows: list[dict], folder: Path) -> MemoryGraphStore:
    """ml100k with the split's train and valid rows (the test rows are the future)."""
    split = folder / "split-no-test.tsv"
    with open(split, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows(r for r in rows if r["split"] != "test")
    store = MemoryGraphStore()
    data = SHARED / "data"
    load_movielens100k(store, data / "movielens-100k", kg_dir=data / "movielens-dbpedia-kg", split_file=split)
    return store


def run(users: int = 100, seed: int = 0, checkpoint: Path = ROOT / "runs" / "explain",
        dislikes: bool = False, max_steps: int | None = None) -> dict:
    """The whole benchmark; returns the JSON payload (``"test"`` holds the reported figures)."""
    torch.set_num_threads(1)
    rng = random.Random(seed)
    rows = read_split()
    low = low_ratings(rng) if dislikes else {"valid": None, "test": None}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = served_store(rows, folder)
        shutil.copytree(checkpoint, folder / "checkpoint")  # loading never writes, but copy anyway
        rec = Recommender.from_checkpoint(folder / "checkpoint", store)
        streams_valid = streams(rows, "valid", low["valid"])
        streams_test = streams(rows, "test", low["test"])
        pool = sorted(u for u in streams_test if len(streams_valid.get(u, ())) >= 2 and len(streams_test[u]) >= 2)
        sample = sorted(rng.sample(pool, min(users, len(pool))), key=int)
        start = time.perf_counter()
        valid = tune(rec, streams_valid, sample, max_steps)
        best = max(valid, key=valid.get)
        alpha, beta = (float(part.split("=")[1]) for part in best.split())
        if not dislikes:  # no negative event in the valid phase: beta cannot be chosen there
            beta = FeedbackPolicy().beta
        log.info("valid: best %s (%.4f) in %.0f s", best, valid[best], time.perf_counter() - start)
        rec.online.policy = FeedbackPolicy(alpha=alpha, beta=beta)
        test = replay(rec, sample, streams_test, max_steps)
    test["gain"] = test["ndcg@10_with"] - test["ndcg@10_without"]
    test["gain_from_model_update"] = test["ndcg@10_with"] - test["ndcg@10_masking_only"]
    return {
        "protocol": __doc__.split("\n\n")[2].replace("\n", " "),
        "machine": machine(),
        "versions": versions("torch", "torch_geometric"),
        "seed": seed,
        "users": len(sample),
        "dislikes": dislikes,
        "max_steps": max_steps,
        "checkpoint": str(checkpoint),
        "chosen": {"alpha": alpha, "beta": beta, "on": "valid"},
        "valid_ndcg@10": {key: round(v, 5) for key, v in valid.items()},
        "test": test,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", type=Path, default=ROOT / "runs" / "explain")
    parser.add_argument("--dislikes", action="store_true")
    parser.add_argument("--max-steps", type=int, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("kgrec").setLevel(logging.WARNING)
    result = run(args.users, args.seed, args.checkpoint, args.dislikes, args.max_steps)
    name = "feedback" + ("_dislikes" if args.dislikes else "")
    path = write_result(name, result)
    test = result["test"]
    print(f"{'users':>6} {'steps':>6} {'alpha':>6} {'beta':>5} {'NDCG@10 without':>16} {'masked only':>12} "
          f"{'with':>8} {'gain':>8} {'p50 ms':>7} {'p99 ms':>7}")
    print(f"{result['users']:>6} {test['steps']:>6} {result['chosen']['alpha']:>6} {result['chosen']['beta']:>5} "
          f"{test['ndcg@10_without']:>16.4f} {test['ndcg@10_masking_only']:>12.4f} {test['ndcg@10_with']:>8.4f} "
          f"{test['gain']:>+8.4f} {test['update_p50_ms']:>7.1f} {test['update_p99_ms']:>7.1f}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
