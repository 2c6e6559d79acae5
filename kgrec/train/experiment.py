"""One training run end to end: fit, evaluate, save checkpoint, curves and test top-K file."""

from __future__ import annotations

from pathlib import Path

from torch_geometric.data import HeteroData

from kgrec.graph.snapshot import Snapshot
from kgrec.models.base import RankingModel
from kgrec.train.checkpoint import save_checkpoint
from kgrec.train.top_k_file import write_top_k
from kgrec.train.trainer import Trainer, TrainConfig


def fit_and_evaluate(
    model: RankingModel,
    graph: HeteroData,
    snapshot: Snapshot,
    config: TrainConfig,
    out_dir: str | Path,
    k: int = 20,
) -> dict[str, dict[str, float]]:
    """Train ``model`` (built on ``graph``), then write ``out_dir/checkpoint/``,
    ``out_dir/curves.png`` and ``out_dir/top{k}_test.tsv``; returns ``{"valid": ..., "test": ...}``
    metrics of the restored best model."""
    out_dir = Path(out_dir)
    trainer = Trainer(model, snapshot, config)
    result = trainer.fit(out_dir)
    save_checkpoint(model, out_dir / "checkpoint", graph, {"best_epoch": result.best_epoch})
    users, top = trainer.evaluator.top_k(model, "test", k)
    write_top_k(out_dir / f"top{k}_test.tsv", snapshot, users, top)
    return {"valid": trainer.evaluator.evaluate(model, "valid"), "test": trainer.evaluator.evaluate(model, "test")}
