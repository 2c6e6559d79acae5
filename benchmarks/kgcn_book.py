"""KGCN Book-Crossing benchmark: kgrec (id-only: the data has no text) with time and peak memory.

    python benchmarks/kgcn_book.py [--data-dir ../shared/data/kgcn-book-crossing] [--seed 2020]
        [--epochs 20] [--patience 4] [--threads 1]

The KGCN data has positives (label 1) and sampled negatives (label 0, skipped by the loader)
and no split. This script makes one: for every user with at least 5 positives, a shuffle
seeded by ``--seed`` puts ceil(20%) of them in test, ceil(10%) in valid and the rest in train
(the rule of the shared ml100k benchmark); users with fewer positives keep them all in train.
Early stopping on valid NDCG@20; full ranking of all items with train (and, for test, valid)
positives masked. Writes ``benchmarks/results/kgcn_book.json`` with the metrics, seconds per
epoch, total time and peak resident memory (the issue asks for < 4 GB).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import time
from pathlib import Path

import torch
import torch_geometric

from kgrec import MemoryGraphStore
from kgrec.loaders import load_kgcn
from kgrec.models import KGRecModel, training_graph
from kgrec.train import Trainer, TrainConfig, metrics_table, per_user_split, seed_everything

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "benchmarks" / "results"
log = logging.getLogger("kgcn_book")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, default=SHARED / "data" / "kgcn-book-crossing")
    ap.add_argument("--seed", type=int, default=2020)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--patience", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=RESULTS / "kgcn_book.json")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_num_threads(args.threads)
    started = time.perf_counter()

    store = MemoryGraphStore()
    load_kgcn(store, args.data_dir)
    snapshot = per_user_split(store.snapshot(), {"test": 0.2, "valid": 0.1}, seed=args.seed)
    loaded = time.perf_counter() - started
    counts = {s: int(snapshot.interactions.mask([s]).sum()) for s in ("train", "valid", "test")}
    log.info("loaded in %.0fs: %s", loaded, counts)

    seed_everything(args.seed)
    graph = training_graph(snapshot)
    model = KGRecModel(graph, channels=64, num_layers=2, feature_mode="id", temperature=0.1)
    config = TrainConfig(
        loss="softmax", num_negatives=256, shared_negatives=True, batch_size=8192, lr=5e-3,
        l2=1e-4, epochs=args.epochs, patience=args.patience, seed=args.seed, progress=False,
    )
    trainer = Trainer(model, snapshot, config)
    fit_start = time.perf_counter()
    result = trainer.fit(RESULTS / "curves" / "kgcn_book")
    fit_seconds = time.perf_counter() - fit_start
    test = trainer.evaluator.evaluate(model, "test")
    valid = result.best_valid

    out = {
        "model": "kgrec (id-only)",
        "hparams": model.hparams(),
        "train": vars(config),
        "split": {"rule": "per user with >= 5 positives: seeded ceil(20%) test, ceil(10%) valid, "
                          "rest train; others all train", "seed": args.seed, "counts": counts},
        "data": {t: snapshot.num_nodes(t) for t in ("user", "item", "entity")}
                | {"kg_edges_with_inverses": sum(graph[e].edge_index.size(1) for e in graph.edge_types)
                   - 2 * counts["train"]},
        "valid": valid,
        "test": test,
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "s_per_epoch": result.seconds_per_epoch,
        "fit_seconds": fit_seconds,
        "load_seconds": loaded,
        "total_seconds": time.perf_counter() - started,
        "peak_rss_mb": peak_rss_mb(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "threads": args.threads,
                    "torch": torch.__version__, "torch_geometric": torch_geometric.__version__},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    print(metrics_table({"kgrec valid": valid, "kgrec test": test}))
    print(f"{out['total_seconds']:.0f}s total, {out['s_per_epoch']:.1f}s/epoch, "
          f"peak RSS {out['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
