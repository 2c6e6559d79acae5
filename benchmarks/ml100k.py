"""ml100k benchmark: every model and ablation, several seeds, test metrics and top-20 files.

    python benchmarks/ml100k.py [--seeds 2020 2021 2022] [--epochs 300] [--patience 50]

Loads MovieLens-100k, the DBpedia KG and the benchmark split with
``kgrec.loaders.load_movielens100k`` into a MemoryGraphStore, trains each model with early
stopping on valid NDCG@20 (the same rule for all), and writes ``benchmarks/results/ml100k.json``
and ``benchmarks/results/ml100k_<model>_seed<seed>.tsv`` (score them with
``../shared/benchmarks/referee.py``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
from pathlib import Path
from typing import Callable

import torch

from kgrec import MemoryGraphStore
from kgrec.loaders import load_movielens100k
from kgrec.models import KGRecModel, LightGCNRanker, MatrixFactorization, Popularity, RankingModel, training_graph
from kgrec.text import EmbeddingCache, TextEncoder, node_text_vectors
from kgrec.train import RankingEvaluator, Trainer, TrainConfig, metrics_table, seed_everything, write_top_k

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "benchmarks" / "results"
KGREC = "kgrec"

# name -> (builds the model from (snapshot, text vectors), per-model TrainConfig overrides)
ModelSpec = tuple[Callable[..., RankingModel], dict]
MODELS: dict[str, ModelSpec] = {
    "popularity": (lambda snap, text: Popularity(training_graph(snap)), {}),
    "bpr-mf": (lambda snap, text: MatrixFactorization(training_graph(snap), channels=64), {}),
    "lightgcn": (lambda snap, text: LightGCNRanker(training_graph(snap), channels=64, num_layers=3), {}),
    KGREC: (lambda snap, text: KGRecModel(training_graph(snap, text)), {}),
    "kgrec-no-text": (lambda snap, text: KGRecModel(training_graph(snap), feature_mode="id"), {}),
    "kgrec-no-kg": (lambda snap, text: KGRecModel(training_graph(snap, text, with_kg=False)), {}),
    "kgrec-no-z": (lambda snap, text: KGRecModel(training_graph(snap, text), use_relation_vectors=False), {}),
}


def cold_items(snapshot, max_train: int = 5) -> torch.Tensor:
    """Indices of items with fewer than ``max_train`` train interactions."""
    counts = torch.bincount(snapshot.interactions.edge_index(("train",))[1], minlength=snapshot.num_nodes("item"))
    return (counts < max_train).nonzero().squeeze(1)


def run(name: str, snapshot, text, seed: int, config: TrainConfig) -> dict:
    build, overrides = MODELS[name]
    seed_everything(seed)
    model = build(snapshot, text)
    trainer = Trainer(model, snapshot, TrainConfig(**{**vars(config), **overrides, "seed": seed}))
    result = trainer.fit(RESULTS / "curves" / f"ml100k_{name}_seed{seed}")
    evaluator = trainer.evaluator
    test = evaluator.evaluate(model, "test")
    test["ndcg@20_cold"] = evaluator.evaluate(model, "test", cold_items(snapshot))["ndcg@20"]
    users, top = evaluator.top_k(model, "test", 20)
    write_top_k(RESULTS / f"ml100k_{name}_seed{seed}.tsv", snapshot, users, top)
    return {
        **test,
        "s_per_epoch": result.seconds_per_epoch,
        "epochs_to_best": result.best_epoch,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def summarize(runs: list[dict]) -> dict:
    out = {}
    for key in ("recall@10", "ndcg@10", "recall@20", "ndcg@20", "ndcg@20_cold"):
        values = [r[key] for r in runs]
        out[key] = {"mean": statistics.mean(values), "std": statistics.pstdev(values)}
    for key in ("s_per_epoch", "epochs_to_best", "peak_rss_mb"):
        out[key] = statistics.mean(r[key] for r in runs)
    out["runs"] = runs
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, default=SHARED / "data" / "movielens-100k")
    ap.add_argument("--kg-dir", type=Path, default=SHARED / "data" / "movielens-dbpedia-kg")
    ap.add_argument("--split", type=Path, default=SHARED / "benchmarks" / "ml100k" / "split.tsv")
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[2020, 2021, 2022])
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--patience", type=int, default=50)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "kgrec")
    ap.add_argument("--out", type=Path, default=RESULTS / "ml100k.json")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    store = MemoryGraphStore()
    load_movielens100k(store, args.data_dir, kg_dir=args.kg_dir, split_file=args.split)
    snapshot = store.snapshot()
    text = node_text_vectors(snapshot, EmbeddingCache(TextEncoder(), args.cache_dir))
    config = TrainConfig(epochs=args.epochs, patience=args.patience, lr=args.lr, progress=False)

    results = {"kgrec": KGREC, "models": {}, "protocol": {**vars(config), "seeds": args.seeds}}
    for name in args.models:
        runs = [run(name, snapshot, text, seed, config) for seed in args.seeds]
        results["models"][name] = summarize(runs)
        args.out.write_text(json.dumps(results, indent=1, default=str))
    print(metrics_table({n: {k: v["mean"] for k, v in m.items() if isinstance(v, dict)}
                         for n, m in results["models"].items()},
                        ("recall@10", "ndcg@10", "recall@20", "ndcg@20", "ndcg@20_cold")))


if __name__ == "__main__":
    main()
