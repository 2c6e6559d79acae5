"""The embedded store's interactions: one :class:`Interaction` per (user, item), held per user.

A mapping ``{(user, item): Interaction}`` stored as ``{user: {item: Interaction}}``: no pair
tuple per interaction, and a user's interactions are one dict away.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, ValuesView
from itertools import chain

from kgrec.graph.records import Interaction

_NONE: Mapping[str, Interaction] = {}


class _Values(ValuesView):
    def __iter__(self) -> Iterator[Interaction]:
        return chain.from_iterable(items.values() for items in self._mapping._by_user.values())


class InteractionsByUser(Mapping[tuple[str, str], Interaction]):
    """``{(user, item): Interaction}``, iterated user by user (users in the order of their first
    interaction, each user's items in insertion order)."""

    def __init__(self) -> None:
        self._by_user: dict[str, dict[str, Interaction]] = {}
        self._count = 0

    def put(self, record: Interaction) -> bool:
        """Store ``record`` under its (user, item), replacing one stored there; True when the
        pair is new."""
        items = self._by_user.get(record.user)
        if items is None:
            items = self._by_user[record.user] = {}
        new = record.item not in items
        items[record.item] = record
        self._count += new
        return new

    def of_user(self, user: str) -> Mapping[str, Interaction]:
        """``{item: Interaction}`` of ``user`` (empty for a user without interactions); read it
        only."""
        return self._by_user.get(user, _NONE)

    def pairs(self, splits: Collection[str]) -> Iterator[tuple[str, str]]:
        """``(user, item)`` of every interaction whose split is in ``splits``."""
        for user, items in self._by_user.items():
            for item, record in items.items():
                if record.split in splits:
                    yield user, item

    def __getitem__(self, pair: tuple[str, str]) -> Interaction:
        return self._by_user[pair[0]][pair[1]]

    def get(self, pair: tuple[str, str], default: Interaction | None = None) -> Interaction | None:
        return self.of_user(pair[0]).get(pair[1], default)

    def __contains__(self, pair: object) -> bool:
        return isinstance(pair, tuple) and len(pair) == 2 and pair[1] in self.of_user(pair[0])

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for user, items in self._by_user.items():
            for item in items:
                yield user, item

    def __len__(self) -> int:
        return self._count

    def values(self) -> ValuesView[Interaction]:
        return _Values(self)
