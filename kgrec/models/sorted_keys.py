"""Lookups in sorted pair keys (``row * width + col``) and in the CSR ranges of their rows."""

from __future__ import annotations

import torch
from torch import Tensor


def find_sorted(keys: Tensor, query: Tensor) -> tuple[Tensor, Tensor]:
    """``(at, found)`` for ``query`` (any shape) in the sorted ``keys`` ``[K]``: ``found`` is true
    where ``keys[at] == query``; ``at`` is clamped into range (0 when ``keys`` is empty)."""
    if not keys.numel():
        return torch.zeros_like(query), torch.zeros_like(query, dtype=torch.bool)
    at = torch.searchsorted(keys, query.flatten()).clamp(max=keys.numel() - 1).view_as(query)
    return at, keys[at] == query


def range_entries(start: Tensor, counts: Tensor) -> tuple[Tensor, Tensor]:
    """``(owner, at)``, one entry per position of the ranges ``start[b] .. start[b] + counts[b]``
    (``[B]`` each) of a flat array: ``owner`` the range's ``b``, ``at`` the position."""
    owner = torch.repeat_interleave(torch.arange(start.numel(), device=start.device), counts)
    first = torch.repeat_interleave(start - (counts.cumsum(0) - counts), counts)
    return owner, first + torch.arange(owner.numel(), device=start.device)
