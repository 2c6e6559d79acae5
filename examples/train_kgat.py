"""Train kgrec (id-only: KGAT/KGIN data has no text) on a KGAT-format directory.

    python examples/train_kgat.py DATA_DIR [--out runs/kgat]

DATA_DIR holds train.txt, test.txt and kg_final.txt as in the KGAT/KGIN repositories.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from kgrec import MemoryGraphStore
from kgrec.loaders import load_kgat
from kgrec.models import KGRecModel, training_graph
from kgrec.train import TrainConfig, fit_and_evaluate, metrics_table, seed_everything

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--out", type=Path, default=Path("runs/kgat"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    store = MemoryGraphStore()
    load_kgat(store, args.data_dir)
    snapshot = store.snapshot()
    seed_everything(2020)
    graph = training_graph(snapshot)
    metrics = fit_and_evaluate(KGRecModel(graph), graph, snapshot, TrainConfig(epochs=args.epochs), args.out)
    print(metrics_table(metrics))
