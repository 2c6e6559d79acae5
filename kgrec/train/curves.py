"""Loss and validation-metric curves as a PNG (needs matplotlib, an optional dependency)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

log = logging.getLogger(__name__)


def save_curves(history: Sequence[dict[str, float]], path: str | Path, metric: str) -> Path | None:
    """Plot ``loss`` and ``metric`` per epoch from ``history`` rows (keys ``epoch``, ``loss``,
    ``metric``) into ``path``; returns None, with a warning, when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed: no curve written to %s", path)
        return None
    epochs = [row["epoch"] for row in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(epochs, [row["loss"] for row in history])
    left.set(xlabel="epoch", ylabel="train loss")
    evaluated = [row for row in history if metric in row]
    right.plot([row["epoch"] for row in evaluated], [row[metric] for row in evaluated])
    right.set(xlabel="epoch", ylabel=f"valid {metric}")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
