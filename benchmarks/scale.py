"""How training and evaluation grow with the data: kgrec beside PyG's LightGCN, one run.

Graphs: the generated recommender graph of ``benchmarks/_generated.py`` (power-law users and
items, a 4-relation KG; seeded) at each ``--sizes`` interactions, and KGCN Book-Crossing. Each
(graph, model) runs in a child process on one torch thread, so its peak resident memory
(``VmHWM``) is its own; the children of one graph alternate between the models ``--repeats``
times, so load changes on this shared machine hit both alike.

Per graph: kgrec's first child loads the graph into the embedded store (batches of 200,000
records) and takes its snapshot, both timed, as a user would; the other children build the
same snapshot from the generated arrays (equal: ``tests/benchmarks/test_generated_graph.py``). Per model: ``--batches`` training steps after one
warm-up (median s/batch, x batches per epoch = s/epoch), and the evaluation of the valid split
(full ranking, train items masked) over up to ``--eval-users`` users, scaled to all valid users.
Both models train with the same batch size: LightGCN with BPR and one negative per pair (PyG's
recipe), kgrec with sampled softmax over 256 negatives shared by the batch (``KGREC_TRAINING``,
``shared_negatives=True``: its recipe for large catalogues). Both propagate over the whole
graph at every step, so a step costs at least the graph's size; at a fixed batch size an epoch
would cost (interactions / batch) x graph, quadratic in the data for any full-graph GNN. The
batch grows with the data instead (``--steps-per-epoch`` 200: 4,000 pairs at 10**6), so an epoch
is a fixed number of steps and its cost follows the work: the slope measures what the models
add per interaction (``--batch-size`` fixes the batch instead).

Then the log-log slope of s/epoch (and of evaluation time, and of peak memory) against the
number of interactions, for each model, over the generated sizes; the targets: kgrec's s/epoch
at 10**6 interactions <= 1.5 x LightGCN's, kgrec's slope <= 1.1, and the 10**7 graph loaded,
snapshotted and trained within 16 GB. Writes ``benchmarks/results/scale.json``.

    python benchmarks/scale.py                      # 1e5, 1e6, 1e7 and Book-Crossing
    python benchmarks/scale.py --sizes 1e5 1e6 --no-book --repeats 1   # a quick look
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _env import SHARED, machine, status_mb, versions, write_result
from rich.console import Console
from rich.table import Table

MODELS = ("kgrec", "lightgcn")
TARGET_RATIO = 1.5
TARGET_SLOPE = 1.1
TARGET_PEAK_GB = 16.0


def peak_gb() -> float:
    """This process's peak resident memory (``VmHWM``), in GB."""
    return status_mb("VmHWM") / 1024


def child(args: argparse.Namespace) -> dict:
    """One (graph, model) measurement; runs in its own process."""
    import torch

    torch.set_num_threads(1)
    from _generated import GeneratedGraph

    from kgrec import MemoryGraphStore
    from kgrec.models import KGRecModel, LightGCNRanker, training_graph
    from kgrec.train import KGREC_TRAINING, RankingEvaluator, Trainer, TrainConfig, seed_everything

    out: dict = {}
    start = time.perf_counter()
    if args.graph == "book-crossing":
        from kgrec.loaders import load_kgcn
        from kgrec.train import per_user_split

        store = MemoryGraphStore()
        load_kgcn(store, args.data_dir)
        out["load_seconds"] = round(time.perf_counter() - start, 2)
        start = time.perf_counter()
        snapshot = per_user_split(store.snapshot(), {"test": 0.2, "valid": 0.1}, seed=args.seed)
    else:
        generated = GeneratedGraph.generate(int(float(args.graph)), args.seed)
        out["generate_seconds"] = round(time.perf_counter() - start, 2)
        start = time.perf_counter()
        if args.via_store:
            store = MemoryGraphStore()
            generated.load(store, progress=False)
            out["load_seconds"] = round(time.perf_counter() - start, 2)
            start = time.perf_counter()
            snapshot = store.snapshot()
        else:  # the same snapshot (tests/benchmarks/test_generated_graph.py), built directly
            store, snapshot = None, generated.snapshot()
        del generated
    out["snapshot_seconds"] = round(time.perf_counter() - start, 2)
    out["peak_gb_loaded"] = round(peak_gb(), 2)
    del store
    interactions = snapshot.interactions
    out["graph"] = {
        "users": snapshot.num_nodes("user"), "items": snapshot.num_nodes("item"),
        "entities": snapshot.num_nodes("entity"),
        "train_interactions": int(interactions.mask(["train"]).sum()),
        "interactions": int(interactions.user.numel()),
        "kg_triples": sum(int(e.size(1)) for e in snapshot.triples.values()),
    }
    train_pairs = out["graph"]["train_interactions"]
    batch_size = args.batch_size or -(-train_pairs // args.steps_per_epoch)
    seed_everything(args.seed)
    graph = training_graph(snapshot, with_kg=True)
    if args.model == "kgrec":
        model = KGRecModel(graph, feature_mode="id")
        config = TrainConfig(**{**KGREC_TRAINING, "batch_size": batch_size}, shared_negatives=True,
                             progress=False, seed=args.seed, device="cpu")
    else:
        model = LightGCNRanker(graph)
        config = TrainConfig(loss="bpr", num_negatives=1, batch_size=batch_size, lr=1e-3,
                             progress=False, seed=args.seed, device="cpu")
    trainer = Trainer(model, snapshot, config)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(args.seed)
    order = torch.randperm(trainer.train_edges.size(1), generator=generator)
    batches = order.split(config.batch_size)
    times = []
    for batch in batches[: args.batches + 1]:
        tick = time.perf_counter()
        users, positives = trainer.train_edges[:, batch]
        negatives = (torch.randint(model.num_items, (config.num_negatives,), generator=generator)
                     if config.shared_negatives else trainer.sampler.sample(users, 1, generator))
        loss = trainer.batch_loss(users, positives, negatives)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - tick)
    per_batch = statistics.median(times[1:])  # the first step warms up
    out["batch_size"] = batch_size
    out["seconds_per_batch"] = round(per_batch, 4)
    out["batches_per_epoch"] = len(batches)
    out["seconds_per_epoch"] = round(per_batch * len(batches), 2)
    evaluator = RankingEvaluator(interactions, model.num_users, model.num_items)
    valid_users = int(interactions.user[interactions.mask(["valid"])].unique().numel())
    tick, seen = time.perf_counter(), 0
    for users, scores, _ in evaluator.scored(model, "valid"):
        scores.topk(20, dim=1)
        seen += users.numel()
        if seen >= args.eval_users:
            break
    elapsed = time.perf_counter() - tick
    out["evaluation"] = {"users_timed": seen, "valid_users": valid_users,
                         "seconds": round(elapsed * valid_users / max(seen, 1), 2)}
    out["peak_gb"] = round(peak_gb(), 2)
    return out


def _shown(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:.1f}"


def slope(sizes: list[float], values: list[float]) -> float:
    """Least-squares slope of log(value) against log(size)."""
    return float(np.polyfit(np.log(sizes), np.log(values), 1)[0])


def run_child(graph: str, model: str, args: argparse.Namespace, via_store: bool) -> dict:
    command = [sys.executable, __file__, "--child", "--graph", graph, "--model", model,
               *(["--via-store"] if via_store else []),
               "--batches", str(args.batches), "--batch-size", str(args.batch_size),
               "--steps-per-epoch", str(args.steps_per_epoch),
               "--eval-users", str(args.eval_users), "--seed", str(args.seed),
               "--data-dir", str(args.data_dir)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{graph}/{model} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def median_run(runs: list[dict]) -> dict:
    """The run with the median s/epoch, with the medians of the timed figures."""
    stored = [r for r in runs if "load_seconds" in r]
    runs = sorted(runs, key=lambda r: r["seconds_per_epoch"])
    mid = dict(runs[len(runs) // 2])
    for key in ("load_seconds", "snapshot_seconds", "peak_gb_loaded"):
        mid[key] = stored[0][key] if stored else None
    mid["evaluation"] = {**mid["evaluation"],
                         "seconds": statistics.median(r["evaluation"]["seconds"] for r in runs)}
    mid["seconds_per_epoch_runs"] = [r["seconds_per_epoch"] for r in runs]
    return mid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["1e5", "1e6", "1e7"])
    ap.add_argument("--no-book", action="store_true", help="skip Book-Crossing")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batches", type=int, default=8, help="timed training steps per run")
    ap.add_argument("--steps-per-epoch", type=int, default=200,
                    help="batch size = train interactions / this (4,000 at 10**6)")
    ap.add_argument("--batch-size", type=int, default=0, help="a fixed batch size instead")
    ap.add_argument("--eval-users", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", type=Path, default=SHARED / "data" / "kgcn-book-crossing")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--via-store", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--graph", help=argparse.SUPPRESS)
    ap.add_argument("--model", choices=MODELS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return

    started = machine()
    graphs = [str(int(float(s))) for s in args.sizes] + ([] if args.no_book else ["book-crossing"])
    results: dict[str, dict[str, dict]] = {}
    for graph in graphs:
        repeats = args.repeats if graph != str(10**7) else 1  # the 10**7 runs take long: once
        runs: dict[str, list[dict]] = {m: [] for m in MODELS}
        for repeat in range(repeats):
            for model in MODELS:
                via_store = model == "kgrec" and repeat == 0
                runs[model].append(run_child(graph, model, args, via_store))
                print(f"{graph} {model}: {runs[model][-1]['seconds_per_epoch']} s/epoch", flush=True)
        results[graph] = {m: median_run(r) for m, r in runs.items()}

    sizes = [g for g in graphs if g != "book-crossing"]
    x = [results[g]["kgrec"]["graph"]["interactions"] for g in sizes]
    slopes = {
        m: {
            "seconds_per_epoch": round(slope(x, [results[g][m]["seconds_per_epoch"] for g in sizes]), 3),
            "seconds_per_batch": round(slope(x, [results[g][m]["seconds_per_batch"] for g in sizes]), 3),
            "evaluation_seconds": round(slope(x, [results[g][m]["evaluation"]["seconds"] for g in sizes]), 3),
            "peak_gb": round(slope(x, [results[g][m]["peak_gb"] for g in sizes]), 3),
        }
        for m in MODELS
    } if len(sizes) > 1 else {}
    ratios = {g: round(results[g]["kgrec"]["seconds_per_epoch"] / results[g]["lightgcn"]["seconds_per_epoch"], 3)
              for g in graphs}
    million, ten_million = str(10**6), str(10**7)
    targets = {
        "ratio_at_1e6": {"target": TARGET_RATIO, "value": ratios.get(million),
                         "met": million in ratios and ratios[million] <= TARGET_RATIO},
        "kgrec_slope": {"target": TARGET_SLOPE, "value": slopes.get("kgrec", {}).get("seconds_per_epoch"),
                        "met": bool(slopes) and slopes["kgrec"]["seconds_per_epoch"] <= TARGET_SLOPE},
        "peak_gb_at_1e7": {
            "target": TARGET_PEAK_GB,
            "value": max(results[ten_million][m]["peak_gb"] for m in MODELS) if ten_million in results else None,
            "met": ten_million in results
            and max(results[ten_million][m]["peak_gb"] for m in MODELS) <= TARGET_PEAK_GB,
        },
    }
    table = Table(title="training and evaluation cost by graph size (one torch thread)")
    for column in ("graph", "interactions", "model", "batch", "s/batch", "s/epoch", "kgrec/LightGCN",
                   "eval s", "load s", "snapshot s", "peak GB"):
        table.add_column(column, justify="right")
    for g in graphs:
        for m in MODELS:
            r = results[g][m]
            table.add_row(g, f"{r['graph']['interactions']:,}", m, f"{r['batch_size']:,}", f"{r['seconds_per_batch']:.3f}",
                          f"{r['seconds_per_epoch']:.1f}", f"{ratios[g]:.2f}" if m == "kgrec" else "",
                          f"{r['evaluation']['seconds']:.1f}", _shown(r["load_seconds"]),
                          _shown(r["snapshot_seconds"]), f"{r['peak_gb']:.2f}")
    Console().print(table)
    print("log-log slopes:", slopes)
    print("targets:", json.dumps(targets))
    path = write_result("scale", {
        "machine": started, "versions": versions("torch", "torch-geometric"),
        "seed": args.seed, "torch_threads": 1, "repeats": args.repeats, "timed_batches": args.batches,
        "steps_per_epoch": args.steps_per_epoch if not args.batch_size else None,
        "fixed_batch_size": args.batch_size or None, "eval_users_timed": args.eval_users,
        "method": __doc__.split("\n\n", 1)[1].strip(),
        "results": results, "ratios_kgrec_over_lightgcn": ratios, "slopes": slopes,
        "targets": targets,
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
