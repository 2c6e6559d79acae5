"""A plain-text metrics table for scripts to print."""

from __future__ import annotations

from typing import Mapping, Sequence

DEFAULT_COLUMNS = ("recall@10", "ndcg@10", "recall@20", "ndcg@20", "precision@20", "hit@20", "mrr@20")


def metrics_table(
    rows: Mapping[str, Mapping[str, float]], columns: Sequence[str] = DEFAULT_COLUMNS
) -> str:
    """One line per row name with the ``columns`` values (4 decimals; missing ones blank)."""
    width = max([len("model"), *map(len, rows)])
    lines = ["  ".join(["model".ljust(width), *(c.rjust(12) for c in columns)])]
    for name, values in rows.items():
        cells = [f"{values[c]:.4f}" if c in values else "" for c in columns]
        lines.append("  ".join([name.ljust(width), *(c.rjust(12) for c in cells)]))
    return "\n".join(lines)
