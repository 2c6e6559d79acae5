"""Train kgrec (id-only: KGAT/KGIN data has no text) on a KGAT-format directory.

    python examples/train_kgat.py DATA_DIR [--out runs/kgat] [--valid-fraction 0.1] [--seed 2020]

DATA_DIR holds train.txt, test.txt and kg_final.txt as in the KGAT/KGIN repositories. The data
has no valid split, so a seeded ``--valid-fraction`` of each user's train items (users with at
least 5) becomes one for early stopping; test is only read at the end.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from kgrec import MemoryGraphStore
from kgrec.loaders import load_kgat
from kgrec.models import KGRecModel, training_graph
from kgrec.train import TrainConfig, fit_and_evaluate, metrics_table, per_user_split, seed_everything

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--epochs", type=int, default=150)
    ap.add_argument("--patience", type=int, default=15)
    ap.add_argument("--valid-fraction", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=2020)
    ap.add_argument("--out", type=Path, default=Path("runs/kgat"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    store = MemoryGraphStore()
    load_kgat(store, args.data_dir)
    snapshot = per_user_split(store.snapshot(), {"valid": args.valid_fraction}, seed=args.seed)
    seed_everything(args.seed)
    graph = training_graph(snapshot)
    config = TrainConfig(
        loss="softmax", num_negatives=256, shared_negatives=True, batch_size=4096, lr=2e-3,
        epochs=args.epochs, patience=args.patience, seed=args.seed,
    )
    model = KGRecModel(graph, feature_mode="id", temperature=0.2)
    metrics = fit_and_evaluate(model, graph, snapshot, config, args.out)
    print(metrics_table(metrics))
