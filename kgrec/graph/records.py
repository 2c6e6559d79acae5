"""Plain records that go into and come out of a :class:`~kgrec.graph.store.GraphStore`.

Inputs (:class:`NodeRecord`, :class:`Interaction`, :class:`Triple`) are validated by
:meth:`validated`, which is the one place their types and values are checked. Outputs
(:class:`Neighbour`, :class:`GraphPath`) are ordered by a canonical key so that every store
returns them in the same order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from kgrec.errors import InvalidValueError
from kgrec.graph.schema import SPLITS, NodeLabel, validate_property_key, validate_relation

Scalar = str | int | float | bool


def _check_str(value: object, what: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or (not optional and value == ""):
        raise InvalidValueError(f"{what} must be a non-empty string, got {value!r}")


def _check_number(value: object, what: str, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidValueError(f"{what} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise InvalidValueError(f"{what} must be finite, got {value!r}")
    return float(value)


def _check_property(key: str, value: object) -> None:
    values = value if isinstance(value, list) else [value]
    for v in values:
        if isinstance(v, float) and not math.isfinite(v):
            raise InvalidValueError(f"property {key!r} must be finite, got {value!r}")
        if not isinstance(v, (str, int, float, bool)):
            raise InvalidValueError(
                f"property {key!r} must be a string, number, boolean or a list of them, "
                f"got {type(v).__name__}"
            )


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """A user, item or entity: external ``id``, optional ``text`` to encode, display ``name``.

    ``None`` for ``text`` or ``name`` leaves a stored value unchanged on upsert.
    """

    id: str
    text: str | None = None
    name: str | None = None
    properties: Mapping[str, Scalar | list[Scalar]] = field(default_factory=dict)

    def validated(self) -> "NodeRecord":
        _check_str(self.id, "node id")
        _check_str(self.text, f"text of node {self.id!r}", optional=True)
        _check_str(self.name, f"name of node {self.id!r}", optional=True)
        if not isinstance(self.properties, Mapping):
            raise InvalidValueError(f"properties of node {self.id!r} must be a mapping")
        for key, value in self.properties.items():
            validate_property_key(key)
            _check_property(key, value)
        return self


@dataclass(frozen=True, slots=True)
class Interaction:
    """User ``user`` interacted with item ``item``. One interaction per (user, item) pair."""

    user: str
    item: str
    rating: float | None = None
    weight: float = 1.0
    timestamp: int | None = None
    split: str = "train"

    def validated(self) -> "Interaction":
        _check_str(self.user, "interaction user id")
        _check_str(self.item, "interaction item id")
        _check_number(self.rating, f"rating of ({self.user!r}, {self.item!r})", optional=True)
        _check_number(self.weight, f"weight of ({self.user!r}, {self.item!r})")
        if self.timestamp is not None and (
            isinstance(self.timestamp, bool) or not isinstance(self.timestamp, int)
        ):
            raise InvalidValueError(
                f"timestamp of ({self.user!r}, {self.item!r}) must be an int, "
                f"got {self.timestamp!r}"
            )
        if self.split not in SPLITS:
            raise InvalidValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        return self


@dataclass(frozen=True, slots=True)
class Triple:
    """A knowledge-graph edge ``(head)-[relation]->(tail)``; heads and tails are items or entities."""

    head: str
    relation: str
    tail: str
    head_label: NodeLabel = NodeLabel.ENTITY
    tail_label: NodeLabel = NodeLabel.ENTITY

    def validated(self) -> "Triple":
        _check_str(self.head, "triple head id")
        _check_str(self.tail, "triple tail id")
        validate_relation(self.relation)
        for label in (self.head_label, self.tail_label):
            if NodeLabel.parse(label) is NodeLabel.USER:
                raise InvalidValueError("knowledge-graph triples connect items and entities only")
        return Triple(
            self.head,
            self.relation,
            self.tail,
            NodeLabel.parse(self.head_label),
            NodeLabel.parse(self.tail_label),
        )


@dataclass(frozen=True, slots=True)
class NodeRef:
    """A node in a query result: its label, id and display name."""

    label: NodeLabel
    id: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Neighbour:
    """A node adjacent to a query node. ``outgoing`` is True when the edge points away from it."""

    relation: str
    outgoing: bool
    node: NodeRef

    def sort_key(self) -> tuple[Any, ...]:
        return (self.relation, not self.outgoing, self.node.label, self.node.id)


@dataclass(frozen=True, slots=True)
class GraphPath:
    """A simple path ``nodes[0] -rel[0]- nodes[1] ... nodes[n]`` that exists in the graph.

    ``forward[k]`` is True when relationship ``k`` points from ``nodes[k]`` to ``nodes[k+1]``.
    """

    nodes: tuple[NodeRef, ...]
    relations: tuple[str, ...]
    forward: tuple[bool, ...]

    def __len__(self) -> int:
        return len(self.relations)

    def sort_key(self) -> tuple[Any, ...]:
        """Shorter first, then by node (label, id) sequence, then by relations."""
        return (
            len(self.relations),
            tuple((n.label, n.id) for n in self.nodes),  # a NodeLabel sorts as its str value
            tuple(zip(self.relations, self.forward)),
        )
