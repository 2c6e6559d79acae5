"""Train kgrec on MovieLens-100k + DBpedia and print valid/test metrics.

    python examples/train_ml100k.py [--data-dir ...] [--kg-dir ...] [--split ...] [--out runs/ml100k]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from kgrec import MemoryGraphStore
from kgrec.loaders import load_movielens100k
from kgrec.models import KGRecModel, training_graph
from kgrec.text import EmbeddingCache, TextEncoder, node_text_vectors
from kgrec.train import KGREC_TRAINING, TrainConfig, fit_and_evaluate, metrics_table, seed_everything

SHARED = Path(__file__).resolve().parents[2] / "shared"

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, default=SHARED / "data" / "movielens-100k")
    ap.add_argument("--kg-dir", type=Path, default=SHARED / "data" / "movielens-dbpedia-kg")
    ap.add_argument("--split", type=Path, default=SHARED / "benchmarks" / "ml100k" / "split.tsv")
    ap.add_argument("--epochs", type=int, default=150)
    ap.add_argument("--patience", type=int, default=15)
    ap.add_argument("--seed", type=int, default=2020)
    ap.add_argument("--out", type=Path, default=Path("runs/ml100k"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    store = MemoryGraphStore()
    load_movielens100k(store, args.data_dir, kg_dir=args.kg_dir, split_file=args.split)
    snapshot = store.snapshot()
    text = node_text_vectors(snapshot, EmbeddingCache(TextEncoder(), Path.home() / ".cache" / "kgrec"))
    seed_everything(args.seed)
    graph = training_graph(snapshot, text)
    model = KGRecModel(graph, channels=64, num_layers=2, temperature=0.4)
    config = TrainConfig(**KGREC_TRAINING, epochs=args.epochs, patience=args.patience, seed=args.seed)
    metrics = fit_and_evaluate(model, graph, snapshot, config, args.out)
    print(metrics_table(metrics))
