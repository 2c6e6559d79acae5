"""A checked conversational request for candidate items (:meth:`GraphStore.request_candidates`),
and the candidates it yields.

The semantics, identical in every store (knowledge-graph relations only, never interactions;
relationships count in either direction):

- a candidate matches a wanted entity ``e`` when it links to ``e`` in one hop (``item - e``) or
  two (``item - x - e``, ``x`` an item or an entity); the match carries the fewest hops;
- a candidate matches a liked item ``x`` when both link to a common node ``n`` (an item or an
  entity; ``item - n - x``, two hops, ``n`` neither of them). Liked items are never candidates;
- matching uses ``relations`` only (``None``: every KG relation); the constraints below use
  every KG relation;
- a candidate links directly to every ``required`` entity and to none of ``excluded_entities``,
  is not in ``excluded_items``, and, when a ``years`` bound is set, has an int ``year`` property
  within the inclusive bounds;
- with wanted entities or liked items, a candidate matches at least one of them; without any,
  every item that passes the constraints is a candidate (with no matches).

On Neo4j, naming ``relations`` (e.g. the ones a model reasons over) lets a two-hop expansion
skip the interactions of the items on the way, most of their relationships (on ml100k, a third
of the server's work for three wanted entities).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Collection, Iterable, Mapping, Sequence

from kgrec.checks import int_in_range
from kgrec.errors import InvalidValueError, shown
from kgrec.graph.records import INT64_MAX, INT64_MIN
from kgrec.graph.schema import NodeLabel, validate_relation
from kgrec.graph.snapshot import id_order

#: The hops of a liked-item match (``item - n - x``), counted in a candidate's total hops.
ITEM_MATCH_HOPS = 2


@dataclass(frozen=True, slots=True)
class RequestCandidate:
    """An item the graph offers for a request: ``entities`` are the wanted entities it matches
    as ``(entity id, hops)`` and ``items`` the liked items it matches, both in request order."""

    item: str
    entities: tuple[tuple[str, int], ...] = ()
    items: tuple[str, ...] = ()

    @property
    def hops(self) -> int:
        """The total hops of its matches (a liked-item match counts :data:`ITEM_MATCH_HOPS`)."""
        return sum(h for _, h in self.entities) + ITEM_MATCH_HOPS * len(self.items)

    def sort_key(self) -> tuple:
        """Most matches first, then fewest total hops, then the item id in
        :func:`~kgrec.graph.snapshot.id_order`."""
        return (-len(self.entities) - len(self.items), self.hops, id_order(self.item))


def _ids(values: object, what: str) -> tuple[str, ...]:
    """``values`` (a collection of id strings) without repeats, in first-seen order."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidValueError(f"{what} must be a collection of id strings, got {shown(values)}")
    values = tuple(values)
    bad = [v for v in values if not isinstance(v, str)]
    if bad:
        raise InvalidValueError(f"{what} must hold id strings, got {shown(bad[0])}")
    return tuple(dict.fromkeys(values))


def _year(value: object, what: str) -> int | None:
    return None if value is None else int_in_range(value, what, INT64_MIN, INT64_MAX)


@dataclass(frozen=True, slots=True)
class CandidateQuery:
    """A checked :meth:`GraphStore.request_candidates` request (semantics: module docstring):
    id tuples without repeats, ``years`` as ``(low, high)`` with ``None`` for an open side,
    ``relations`` sorted or ``None``. Build it with :meth:`checked`."""

    entities: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    excluded_entities: tuple[str, ...] = ()
    excluded_items: tuple[str, ...] = ()
    years: tuple[int | None, int | None] = (None, None)
    relations: tuple[str, ...] | None = None
    limit: int = 1000

    @classmethod
    def checked(
        cls,
        entities: Collection[str] = (),
        items: Collection[str] = (),
        required: Collection[str] = (),
        excluded_entities: Collection[str] = (),
        excluded_items: Collection[str] = (),
        years: Sequence[int | None] = (None, None),
        relations: Collection[str] | None = None,
        limit: int = 1000,
    ) -> "CandidateQuery":
        """The query, its arguments checked; raises :class:`~kgrec.errors.InvalidValueError`
        or :class:`~kgrec.errors.InvalidNameError` naming the bad one. Whether the ids exist
        is the store's check (:class:`~kgrec.errors.UnknownIdError`)."""
        if isinstance(years, (str, bytes)) or not isinstance(years, Sequence) or len(years) != 2:
            raise InvalidValueError(f"years must be a (low, high) pair, got {shown(years)}")
        low, high = _year(years[0], "years low bound"), _year(years[1], "years high bound")
        if low is not None and high is not None and low > high:
            raise InvalidValueError(f"years low bound {low} is above the high bound {high}")
        if relations is not None:
            if isinstance(relations, str) or not isinstance(relations, Iterable):
                raise InvalidValueError(
                    f"relations must be relation names or None, got {shown(relations)}"
                )
            relations = tuple(sorted({validate_relation(r) for r in relations}))
            if not relations:
                raise InvalidValueError("relations must name at least one relation (None: all)")
        return cls(
            _ids(entities, "entities"),
            _ids(items, "items"),
            _ids(required, "required"),
            _ids(excluded_entities, "excluded_entities"),
            _ids(excluded_items, "excluded_items"),
            (low, high),
            relations,
            int_in_range(limit, "limit", 1, INT64_MAX),
        )

    @classmethod
    def of(cls, query: object) -> "CandidateQuery":
        """``query`` checked again (a query built without :meth:`checked` skipped the checks)."""
        if not isinstance(query, CandidateQuery):
            raise InvalidValueError(f"expected a CandidateQuery, got {type(query).__name__}")
        return cls.checked(**{f.name: getattr(query, f.name) for f in fields(query)})

    @property
    def matching(self) -> bool:
        """Whether candidates must match a wanted entity or a liked item."""
        return bool(self.entities or self.items)

    def referenced_ids(self) -> dict[NodeLabel, list[str]]:
        """The ids that must exist, per label."""
        entities = {*self.entities, *self.required, *self.excluded_entities}
        return {
            NodeLabel.ENTITY: sorted(entities),
            NodeLabel.ITEM: sorted({*self.items, *self.excluded_items}),
        }

    def candidate(
        self, item: str, entity_hops: Mapping[str, int], liked: Collection[str]
    ) -> RequestCandidate:
        """The candidate ``item`` with its matches in request order: ``entity_hops`` maps the
        wanted entities it matches to their hops, ``liked`` holds the liked items it matches."""
        return RequestCandidate(
            item,
            tuple((e, entity_hops[e]) for e in self.entities if e in entity_hops),
            tuple(x for x in self.items if x in liked),
        )

    def parameters(self) -> dict[str, object]:
        """The parameters of :data:`~kgrec.graph.candidate_cypher.CANDIDATES`."""
        return {
            "entities": list(self.entities),
            "items": list(self.items),
            "skip": [*self.items, *self.excluded_items],
            "required": list(self.required),
            "excluded": list(self.excluded_entities),
            "low": self.years[0],
            "high": self.years[1],
            "limit": self.limit,
        }

    def candidate_of_row(self, item: str, matches: Sequence[Sequence]) -> RequestCandidate:
        """A candidate as :data:`~kgrec.graph.candidate_cypher.CANDIDATES` returns it: ``matches`` holds
        ``[kind, id, hops]`` per match, ``kind`` ``"Entity"`` (a wanted entity) or ``"Item"``
        (a liked item)."""
        entity_hops = {m[1]: m[2] for m in matches if m[0] == NodeLabel.ENTITY.value}
        liked = {m[1] for m in matches if m[0] == NodeLabel.ITEM.value}
        return self.candidate(item, entity_hops, liked)

    def year_passes(self, year: object) -> bool:
        """Whether an item whose ``year`` property is ``year`` (``None``: absent) passes."""
        low, high = self.years
        if low is None and high is None:
            return True
        if isinstance(year, bool) or not isinstance(year, int):
            return False
        return (low is None or year >= low) and (high is None or year <= high)
