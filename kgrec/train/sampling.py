"""Uniform negative sampling that never returns a user's train positive."""

from __future__ import annotations

import torch
from torch import Tensor

from kgrec.errors import InvalidValueError, shown
from kgrec.models.sorted_keys import find_sorted

#: Largest users x items table kept as a dense boolean lookup (bytes).
DENSE_LOOKUP_MAX = 2**28
#: Rejection rounds before the rows still holding a positive are drawn exactly from the user's
#: non-positive items. A row survives ``r`` rounds with probability ``f ** (r + 1)`` for a user
#: whose train positives are a fraction ``f`` of the catalogue: the fallback is for users with
#: nearly every item (a user with 44% of the items reaches it once in 10**11 draws).
REJECTION_ROUNDS = 32


class NegativeSampler:
    """Draws items uniformly from those a user has no train interaction with.

    ``train_edges`` ``[2, E]`` (user, item) train pairs; ``num_items`` the catalogue size.
    Rejection sampling in vectorized rounds, no Python loop over users; after
    :data:`REJECTION_ROUNDS` rounds the few rows still holding a positive are drawn exactly from
    their user's complement, so :meth:`sample` always ends. A user whose train positives are the
    whole catalogue has no negative: :attr:`users_without_negatives` lists them, and asking
    :meth:`sample` for one is an :class:`~kgrec.errors.InvalidValueError` (the
    :class:`~kgrec.train.Trainer` leaves their pairs out). Membership is a dense ``[U * I]``
    boolean lookup when it fits in :data:`DENSE_LOOKUP_MAX` bytes, else a binary search in the
    sorted pair keys. Every tensor it makes is on the device of ``train_edges``; pass
    ``users`` and a ``generator`` on that device.
    """

    def __init__(self, train_edges: Tensor, num_items: int) -> None:
        self.num_items = num_items
        self.keys = torch.unique(train_edges[0] * num_items + train_edges[1])  # sorted, distinct
        num_users = int(train_edges[0].max()) + 1 if self.keys.numel() else 0
        device = self.keys.device
        positives = torch.bincount(self.keys // num_items, minlength=num_users)
        #: Sorted ids of the users whose train positives are every item.
        self.users_without_negatives: Tensor = (positives == num_items).nonzero().squeeze(1)
        self.dense: Tensor | None = None
        if num_users * num_items <= DENSE_LOOKUP_MAX:
            self.dense = torch.zeros(num_users * num_items + 1, dtype=torch.bool, device=device)
            self.dense[self.keys] = True

    def is_positive(self, users: Tensor, items: Tensor) -> Tensor:
        """True where ``(users, items)`` (same shape) is a train interaction."""
        keys = users * self.num_items + items
        if self.dense is not None:
            return self.dense[keys.clamp(max=self.dense.numel() - 1)]
        return find_sorted(self.keys, keys)[1]

    def has_negatives(self, users: Tensor) -> Tensor:
        """True where a user has at least one item that is not a train positive."""
        return ~torch.isin(users, self.users_without_negatives)

    def sample(self, users: Tensor, num_negatives: int, generator: torch.Generator) -> Tensor:
        """``[B, num_negatives]`` negatives for ``users`` ``[B]``, each uniform over the user's
        non-positive items. Raises :class:`InvalidValueError` naming the users that have none."""
        if self.users_without_negatives.numel():
            full = users[~self.has_negatives(users)].unique()
            if full.numel():
                raise InvalidValueError(
                    f"user row(s) {shown(full.tolist())} interacted with every item in train: "
                    "there is no negative item to sample for them"
                )
        users = users.unsqueeze(1).expand(-1, num_negatives).reshape(-1)
        items = torch.randint(self.num_items, users.shape, generator=generator, device=users.device)
        bad = self.is_positive(users, items).nonzero().squeeze(1)
        for _ in range(REJECTION_ROUNDS):
            if not bad.numel():
                break
            items[bad] = torch.randint(self.num_items, bad.shape, generator=generator, device=bad.device)
            bad = bad[self.is_positive(users[bad], items[bad])]
        if bad.numel():
            items[bad] = self._exact(users[bad], generator)
        return items.view(-1, num_negatives)

    def _exact(self, users: Tensor, generator: torch.Generator) -> Tensor:
        """One uniform non-positive item per entry of ``users``, drawn from each user's
        complement (a Python loop over the distinct users: only the few rejection left)."""
        items = torch.empty_like(users)
        for user in users.unique().tolist():
            rows = (users == user).nonzero().squeeze(1)
            bounds = torch.tensor([user, user + 1], device=users.device) * self.num_items
            span = torch.searchsorted(self.keys, bounds).tolist()
            allowed = torch.ones(self.num_items, dtype=torch.bool, device=users.device)
            allowed[self.keys[span[0] : span[1]] - user * self.num_items] = False
            complement = allowed.nonzero().squeeze(1)
            pick = torch.randint(complement.numel(), rows.shape, generator=generator, device=users.device)
            items[rows] = complement[pick]
        return items
