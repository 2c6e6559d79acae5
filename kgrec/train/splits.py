"""Seeded per-user splits carved out of a snapshot's interactions (for data without a valid split)."""

from __future__ import annotations

import dataclasses
import logging

import torch

from kgrec.graph.schema import SPLITS
from kgrec.graph.snapshot import Snapshot

log = logging.getLogger(__name__)


def per_user_split(
    snapshot: Snapshot,
    fractions: dict[str, float],
    seed: int,
    source: str = "train",
    min_interactions: int = 5,
) -> Snapshot:
    """A copy of ``snapshot`` where, for every user with at least ``min_interactions`` rows in
    ``source``, a seeded shuffle moves ``ceil(f * n)`` of them to each split ``s`` of
    ``fractions`` ``{s: f}`` (in order); the rest stay in ``source``. E.g. ``{"valid": 0.1}``
    carves a valid split from train, and ``{"test": 0.2, "valid": 0.1}`` makes a 70/10/20
    split of positives all marked train.

    Users with fewer than ``min_interactions`` rows keep them all in ``source``: they get NO
    row in any split of ``fractions``, so they are left out of (e.g.) validation and test
    metrics. How many users that leaves out is logged at INFO.
    """
    ia = snapshot.interactions
    rows = ia.mask([source]).nonzero().squeeze(1)
    generator = torch.Generator().manual_seed(seed)
    shuffled = rows[torch.randperm(rows.numel(), generator=generator)]
    shuffled = shuffled[torch.sort(ia.user[shuffled], stable=True).indices]  # grouped by user
    users = ia.user[shuffled]
    counts = torch.bincount(users, minlength=snapshot.num_nodes("user"))
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.arange(shuffled.numel()) - starts[users]
    n = counts[users]
    few = int(((counts > 0) & (counts < min_interactions)).sum())
    if few:
        log.info(
            "per_user_split: %d of %d users with %s rows have fewer than %d, keep them all in %r "
            "and get none in %s",
            few,
            int((counts > 0).sum()),
            source,
            min_interactions,
            source,
            list(fractions),
        )
    split = ia.split.clone()
    low = torch.zeros_like(n)
    for name, fraction in fractions.items():
        high = low + torch.ceil(n.double() * fraction).long()
        take = (n >= min_interactions) & (rank >= low) & (rank < high)
        split[shuffled[take]] = SPLITS.index(name)
        low = high
    if bool(((low >= n) & (n >= min_interactions)).any()):
        raise ValueError(f"fractions {fractions} leave some user nothing in {source!r}")
    return dataclasses.replace(snapshot, interactions=dataclasses.replace(ia, split=split))
