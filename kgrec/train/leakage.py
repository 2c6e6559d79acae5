"""Refuse evaluation data that overlaps the training data."""

from __future__ import annotations

import torch

from kgrec.errors import KgrecError
from kgrec.graph.snapshot import InteractionTable


class LeakageError(KgrecError):
    """A (user, item) pair is in the training split and in an evaluation split."""


def check_no_leakage(interactions: InteractionTable, num_items: int) -> None:
    """Raise :class:`LeakageError` when any (user, item) pair is in more than one split."""
    pair = interactions.user * num_items + interactions.item
    keys, counts = torch.unique(pair, return_counts=True)
    if (counts > 1).any():
        dup = keys[counts > 1][:5]
        pairs = [(int(k) // num_items, int(k) % num_items) for k in dup]
        raise LeakageError(f"(user, item) index pairs in more than one split, e.g. {pairs}")
