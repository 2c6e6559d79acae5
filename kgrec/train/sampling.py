"""Uniform negative sampling that never returns a user's train positive."""

from __future__ import annotations

import torch
from torch import Tensor


class NegativeSampler:
    """Draws items uniformly from those a user has no train interaction with.

    ``train_edges`` ``[2, E]`` (user, item) train pairs; ``num_items`` the catalogue size.
    Rejection sampling against a sorted key table: a few vectorized rounds, no Python loop
    over users.
    """

    def __init__(self, train_edges: Tensor, num_items: int) -> None:
        self.num_items = num_items
        self.keys = torch.sort(train_edges[0] * num_items + train_edges[1]).values

    def _is_positive(self, users: Tensor, items: Tensor) -> Tensor:
        keys = users * self.num_items + items
        pos = torch.searchsorted(self.keys, keys).clamp(max=self.keys.numel() - 1)
        return self.keys[pos] == keys

    def sample(self, users: Tensor, num_negatives: int, generator: torch.Generator) -> Tensor:
        """``[B, num_negatives]`` negatives for ``users`` ``[B]``."""
        users = users.unsqueeze(1).expand(-1, num_negatives)
        items = torch.randint(self.num_items, users.shape, generator=generator)
        bad = self._is_positive(users, items)
        while bad.any():
            items[bad] = torch.randint(self.num_items, (int(bad.sum()),), generator=generator)
            bad = self._is_positive(users, items)
        return items
