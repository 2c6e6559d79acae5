"""ml100k benchmark: every model and ablation, several seeds, test metrics and top-20 files.

    python benchmarks/ml100k.py [--models ...] [--seeds 2020 2021 2022] [--epochs 150]
        [--patience 15] [--jobs 2] [--threads 1] [--results-dir benchmarks/results]

Loads MovieLens-100k, the DBpedia KG (its rejected wrong links dropped) and the benchmark
split with ``kgrec.loaders.load_movielens100k`` into a MemoryGraphStore and trains every
(model, seed) with early stopping on valid NDCG@20 under one rule for all models (``--epochs``
and ``--patience``); only the learning rate, loss and batch size are per model (picked on
valid, see ``MODELS``); EASE, fitted in closed form, takes its lambda from ``EASE_L2`` by valid
NDCG@20. Writes ``RESULTS_DIR/ml100k.json`` (models not run this time keep their entries from
the file already there, each entry dated by its ``measured`` field), the test top-20 lists
``RESULTS_DIR/ml100k_<model>_seed<seed>.tsv`` and each run's valid curve
(``RESULTS_DIR/curves/ml100k_<model>_seed<seed>/history.json``), and re-scores every list with
``../shared/benchmarks/referee.py``: the run fails if the referee disagrees with a figure.

Runs go to ``--jobs`` worker processes of ``--threads`` torch threads each: on a shared
2-core machine one thread per process is several times faster than two contending threads,
so seconds per epoch compare models within one run only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import multiprocessing
import os
import platform
import resource
import statistics
import time
from pathlib import Path
from typing import Any, Callable

import torch
import torch_geometric

from kgrec import MemoryGraphStore
from kgrec.graph.snapshot import Snapshot
from kgrec.loaders import load_movielens100k
from kgrec.models import (
    EASE, KGRecModel, LightGCNRanker, MatrixFactorization, Popularity, RankingModel, training_graph,
)
from kgrec.text import EmbeddingCache, TextEncoder, node_text_vectors
from kgrec.train import (
    KGREC_TRAINING, RankingEvaluator, Trainer, TrainConfig, metrics_table, seed_everything, write_top_k,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "benchmarks" / "results"
KGREC = "kgrec"
log = logging.getLogger("ml100k")

#: kgrec's training: sampled softmax over 256 negatives per pair (the model's logits are
#: cosines over a temperature), larger batches; chosen on valid NDCG@20.
KGREC_TRAIN = KGREC_TRAINING
KGREC_MODEL = dict(channels=64, num_layers=2, temperature=0.4)
#: Baselines: BPR, one negative, lr picked on valid.
BPR_TRAIN = dict(loss="bpr", num_negatives=1, batch_size=2048, lr=5e-3, l2=1e-4)
#: EASE's lambda is picked on valid NDCG@20 from this grid, in every run.
EASE_L2 = (50.0, 100.0, 200.0, 500.0, 1000.0)

Text = dict[str, "torch.Tensor | None"]


def ease_on_valid(snapshot: Snapshot, text: Text) -> EASE:
    """The EASE model of the :data:`EASE_L2` grid with the best valid NDCG@20 (test unread)."""
    graph = training_graph(snapshot)
    evaluator = RankingEvaluator(
        snapshot.interactions, graph["user"].num_nodes, graph["item"].num_nodes
    )
    models = {l2: EASE(graph, l2=l2) for l2 in EASE_L2}
    valid = {l2: evaluator.evaluate(model, "valid")["ndcg@20"] for l2, model in models.items()}
    best = max(valid, key=valid.get)
    log.info("EASE valid ndcg@20 by l2: %s; picked l2 %g",
             ", ".join(f"{l2:g}: {v:.4f}" for l2, v in valid.items()), best)
    return models[best]

# name -> (builds the model from (snapshot, text vectors), TrainConfig fields of this model)
MODELS: dict[str, tuple[Callable[[Snapshot, Text], RankingModel], dict[str, Any]]] = {
    "popularity": (lambda snap, text: Popularity(training_graph(snap)), {}),
    "ease": (ease_on_valid, {}),
    "bpr-mf": (lambda snap, text: MatrixFactorization(training_graph(snap), channels=64), BPR_TRAIN),
    "lightgcn": (
        lambda snap, text: LightGCNRanker(training_graph(snap), channels=64, num_layers=3),
        BPR_TRAIN,
    ),
    KGREC: (lambda snap, text: KGRecModel(training_graph(snap, text), **KGREC_MODEL), KGREC_TRAIN),
    "kgrec-no-text": (
        lambda snap, text: KGRecModel(training_graph(snap), feature_mode="id", **KGREC_MODEL),
        KGREC_TRAIN,
    ),
    "kgrec-no-kg": (
        lambda snap, text: KGRecModel(training_graph(snap, text, with_kg=False), **KGREC_MODEL),
        KGREC_TRAIN,
    ),
    "kgrec-no-z": (
        lambda snap, text: KGRecModel(
            training_graph(snap, text), use_relation_vectors=False, **KGREC_MODEL
        ),
        KGREC_TRAIN,
    ),
}

# Set in the parent before the workers fork: the data every run shares.
_DATA: dict[str, Any] = {}


def cold_items(snapshot: Snapshot, max_train: int = 5) -> torch.Tensor:
    """Indices of items with fewer than ``max_train`` train interactions."""
    counts = torch.bincount(
        snapshot.interactions.edge_index(("train",))[1], minlength=snapshot.num_nodes("item")
    )
    return (counts < max_train).nonzero().squeeze(1)


def run(name: str, seed: int) -> dict[str, Any]:
    """Train and test one model with one seed (in a worker process)."""
    torch.set_num_threads(_DATA["threads"])
    snapshot, text, config = _DATA["snapshot"], _DATA["text"], _DATA["config"]
    results_dir = _DATA["results_dir"]
    build, overrides = MODELS[name]
    seed_everything(seed)
    start = time.perf_counter()
    model = build(snapshot, text)
    trainer = Trainer(model, snapshot, TrainConfig(**{**vars(config), **overrides, "seed": seed}))
    curves = results_dir / "curves" / f"ml100k_{name}_seed{seed}"
    result = trainer.fit(curves)
    curves.mkdir(parents=True, exist_ok=True)
    (curves / "history.json").write_text(json.dumps(result.history))
    evaluator = trainer.evaluator
    test = evaluator.evaluate(model, "test")
    test["ndcg@20_cold"] = evaluator.evaluate(model, "test", cold_items(snapshot))["ndcg@20"]
    users, top = evaluator.top_k(model, "test", 20)
    tsv = write_top_k(results_dir / f"ml100k_{name}_seed{seed}.tsv", snapshot, users, top)
    log.info("%s seed %d: test ndcg@20 %.4f recall@20 %.4f (best epoch %d)",
             name, seed, test["ndcg@20"], test["recall@20"], result.best_epoch)
    return {
        "seed": seed,
        **{k: v for k, v in test.items() if k != "users"},
        "valid_ndcg@20": result.best_valid.get("ndcg@20", float("nan")),
        "valid_recall@20": result.best_valid.get("recall@20", float("nan")),
        "hparams": model.hparams(),
        "s_per_epoch": result.seconds_per_epoch,
        "epochs_run": len(result.history),
        "epochs_to_best": result.best_epoch,
        "wall_s": time.perf_counter() - start,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "top20": str(tsv.relative_to(ROOT) if tsv.is_relative_to(ROOT) else tsv),
    }


def referee_check(split: Path, runs: dict[str, list[dict[str, Any]]]) -> None:
    """Re-score every top-20 file with the shared referee; raise if any figure differs."""
    spec = importlib.util.spec_from_file_location("referee", SHARED / "benchmarks" / "referee.py")
    referee = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(referee)
    sets = referee.read_split(split)
    for name, model_runs in runs.items():
        for r in model_runs:
            judged = referee.score(sets, referee.read_topk(ROOT / r["top20"]), "test", [10, 20])
            for key in ("recall@10", "ndcg@10", "recall@20", "ndcg@20"):
                if abs(judged[key] - r[key]) > 1e-6:
                    raise RuntimeError(f"referee disagrees on {name} seed {r['seed']} {key}: "
                                       f"{judged[key]} vs {r[key]}")
            r["referee"] = {k: judged[k] for k in ("recall@20", "ndcg@20", "users")}


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("recall@10", "ndcg@10", "recall@20", "ndcg@20", "precision@20", "hit@20",
                "mrr@20", "ndcg@20_cold", "valid_ndcg@20", "valid_recall@20"):
        values = [r[key] for r in runs]
        out[key] = {"mean": statistics.mean(values), "std": statistics.pstdev(values)}
    for key in ("s_per_epoch", "epochs_to_best", "epochs_run", "wall_s", "peak_rss_mb"):
        out[key] = statistics.mean(r[key] for r in runs)
    out["runs"] = runs
    return out


def keep_previous(results: dict[str, Any], out: Path) -> None:
    """Carry into ``results`` the models of an earlier ``out`` file that this run did not train
    (their figures and training protocol), so running a subset never loses the others."""
    if not out.exists():
        return
    previous = json.loads(out.read_text())
    for name, entry in previous.get("models", {}).items():
        if name not in results["models"]:
            results["models"][name] = entry
            train = previous.get("protocol", {}).get("train", {})
            if name in train:
                results["protocol"]["train"][name] = train[name]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, default=SHARED / "data" / "movielens-100k")
    ap.add_argument("--kg-dir", type=Path, default=SHARED / "data" / "movielens-dbpedia-kg")
    ap.add_argument("--split", type=Path, default=SHARED / "benchmarks" / "ml100k" / "split.tsv")
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[2020, 2021, 2022])
    ap.add_argument("--epochs", type=int, default=150)
    ap.add_argument("--patience", type=int, default=15)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "kgrec")
    ap.add_argument("--results-dir", type=Path, default=RESULTS,
                    help="where the top-20 files and curves go")
    ap.add_argument("--out", type=Path, default=None, help="default: RESULTS_DIR/ml100k.json")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(processName)s %(name)s %(message)s")
    logging.getLogger("kgrec.train.trainer").setLevel(logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(args.threads)
    started = time.perf_counter()

    store = MemoryGraphStore()
    load_movielens100k(store, args.data_dir, kg_dir=args.kg_dir, split_file=args.split)
    snapshot = store.snapshot()
    text = node_text_vectors(snapshot, EmbeddingCache(TextEncoder(), args.cache_dir))
    config = TrainConfig(epochs=args.epochs, patience=args.patience, progress=False)
    _DATA.update(snapshot=snapshot, text=text, config=config, threads=args.threads,
                 results_dir=args.results_dir)

    # Slowest first, so the two workers finish together.
    order = sorted(args.models, key=lambda n: (not n.startswith(KGREC), n != "lightgcn"))
    jobs = [(name, seed) for name in order for seed in args.seeds]
    with multiprocessing.get_context("fork").Pool(args.jobs, maxtasksperchild=1) as pool:
        outputs = pool.starmap(run, jobs, chunksize=1)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in args.models}
    for (name, _), out in zip(jobs, outputs):
        runs[name].append(out)
    referee_check(args.split, runs)

    measured = time.strftime("%Y-%m-%d", time.gmtime())
    results = {
        "kgrec": KGREC,
        "models": {name: {**summarize(model_runs), "measured": measured} for name, model_runs in runs.items()},
        "protocol": {
            "stopping": f"early stopping on valid ndcg@20, patience {args.patience}, "
                        f"at most {args.epochs} epochs, best weights restored (every model)",
            "train": {name: {**vars(config), **MODELS[name][1]} for name in args.models},
            "kgrec_model": KGREC_MODEL,
            "ease_l2_grid": EASE_L2,
            "seeds": args.seeds,
            "cold": "ndcg@20_cold: test items with < 5 train interactions as the only relevant ones",
            "referee": "every top-20 file re-scored with ../shared/benchmarks/referee.py, |diff| <= 1e-6",
        },
        "data": {"split": str(args.split), "data_dir": str(args.data_dir), "kg_dir": str(args.kg_dir),
                 "users": snapshot.num_nodes("user"), "items": snapshot.num_nodes("item"),
                 "entities": snapshot.num_nodes("entity")},
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "jobs": args.jobs,
                    "threads_per_job": args.threads, "python": platform.python_version(),
                    "torch": torch.__version__, "torch_geometric": torch_geometric.__version__},
        "wall_minutes": (time.perf_counter() - started) / 60,
    }
    out = args.out or args.results_dir / "ml100k.json"
    keep_previous(results, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(metrics_table(
        {n: {k: v["mean"] for k, v in m.items() if isinstance(v, dict)} for n, m in results["models"].items()},
        ("recall@10", "ndcg@10", "recall@20", "ndcg@20", "ndcg@20_cold"),
    ))
    print(f"wall time {results['wall_minutes']:.1f} min; all figures confirmed by the referee")


if __name__ == "__main__":
    main()
