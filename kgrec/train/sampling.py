"""Uniform negative sampling that never returns a user's train positive."""

from __future__ import annotations

import torch
from torch import Tensor

#: Largest users x items table kept as a dense boolean lookup (bytes).
DENSE_LOOKUP_MAX = 2**28


class NegativeSampler:
    """Draws items uniformly from those a user has no train interaction with.

    ``train_edges`` ``[2, E]`` (user, item) train pairs; ``num_items`` the catalogue size.
    Rejection sampling in a few vectorized rounds, no Python loop over users; membership is a
    dense ``[U * I]`` boolean lookup when it fits in :data:`DENSE_LOOKUP_MAX` bytes, else a
    binary search in the sorted pair keys.
    """

    def __init__(self, train_edges: Tensor, num_items: int) -> None:
        self.num_items = num_items
        keys = train_edges[0] * num_items + train_edges[1]
        num_users = int(train_edges[0].max()) + 1 if keys.numel() else 0
        self.dense: Tensor | None = None
        self.keys = torch.sort(keys).values
        if num_users * num_items <= DENSE_LOOKUP_MAX:
            self.dense = torch.zeros(num_users * num_items + 1, dtype=torch.bool)
            self.dense[keys] = True

    def is_positive(self, users: Tensor, items: Tensor) -> Tensor:
        """True where ``(users, items)`` (same shape) is a train interaction."""
        keys = users * self.num_items + items
        if self.dense is not None:
            return self.dense[keys.clamp(max=self.dense.numel() - 1)]
        pos = torch.searchsorted(self.keys, keys).clamp(max=self.keys.numel() - 1)
        return self.keys[pos] == keys

    def sample(self, users: Tensor, num_negatives: int, generator: torch.Generator) -> Tensor:
        """``[B, num_negatives]`` negatives for ``users`` ``[B]``."""
        users = users.unsqueeze(1).expand(-1, num_negatives)
        items = torch.randint(self.num_items, users.shape, generator=generator)
        bad = self.is_positive(users, items)
        while bad.any():
            items[bad] = torch.randint(self.num_items, (int(bad.sum()),), generator=generator)
            bad = self.is_positive(users, items)
        return items
