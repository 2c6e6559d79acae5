"""Plain records that go into and come out of a :class:`~kgrec.graph.store.GraphStore`.

Inputs (:class:`NodeRecord`, :class:`Interaction`, :class:`Triple`) are validated by
:meth:`validated`, which is the one place their types and values are checked, identically for
every store and before anything is written: a value passes only if both the embedded store and
Neo4j (its driver, property types and indexes) accept it and a snapshot can hold it. Outputs
(:class:`Neighbour`, :class:`GraphPath`) are ordered by a canonical key so that every store
returns them in the same order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from kgrec.errors import InvalidValueError, shown
from kgrec.graph.schema import (
    FEEDBACK_KINDS,
    INTERACTED,
    SPLITS,
    NodeLabel,
    validate_property_key,
    validate_relation,
)

Scalar = str | int | float | bool

#: Neo4j (and a snapshot's ``long`` tensors) hold integers as signed 64-bit.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

#: Ratings and weights become float32 in a snapshot: larger magnitudes would turn into inf.
FLOAT32_MAX = 3.4028234663852886e38

#: The largest id, in UTF-8 bytes. Ids carry a uniqueness constraint, i.e. a Neo4j RANGE
#: index, whose keys are limited to about 8 KiB (8,160 bytes stored, 8,170 refused on 5.26):
#: half of that leaves room for any index format change.
MAX_ID_BYTES = 4_096

#: The largest display name, in UTF-8 bytes. Names carry a Neo4j TEXT index, backed by Lucene,
#: whose terms are limited to 32,766 bytes (measured on 5.26 as well); half of that, as for ids.
MAX_NAME_BYTES = 16_384


def _utf8_size(value: str, what: str) -> int:
    """The UTF-8 size of ``value``; raises when it holds a lone surrogate (no UTF-8 form, so
    the Neo4j driver cannot send it)."""
    if value.isascii():
        return len(value)
    try:
        return len(value.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidValueError(
            f"{what} is not valid Unicode (lone surrogate {value[exc.start]!r} at position "
            f"{exc.start}): {shown(value)}"
        ) from None


def _check_str(
    value: object, what: str, *, optional: bool = False, max_bytes: int | None = None
) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or (not optional and value == ""):
        raise InvalidValueError(f"{what} must be a non-empty string, got {shown(value)}")
    size = _utf8_size(value, what)
    if max_bytes is not None and size > max_bytes:
        raise InvalidValueError(
            f"{what} is {size:,} UTF-8 bytes, more than the {max_bytes:,} the Neo4j index on it "
            f"accepts: {shown(value)}"
        )


def _check_id(value: object, what: str) -> None:
    _check_str(value, what, max_bytes=MAX_ID_BYTES)


def _check_int(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValueError(f"{what} must be an int, got {shown(value)}")
    if not INT64_MIN <= value <= INT64_MAX:
        raise InvalidValueError(f"{what} must fit in a signed 64-bit integer, got {shown(value)}")


def _check_number(value: object, what: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidValueError(f"{what} must be a number, got {shown(value)}")
    if not math.isfinite(value) or abs(value) > FLOAT32_MAX:
        raise InvalidValueError(f"{what} must be finite in float32, got {shown(value)}")


def _check_scalar(value: object, what: str) -> None:
    if isinstance(value, str):
        _utf8_size(value, what)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValueError(f"{what} must be finite, got {shown(value)}")
    elif isinstance(value, int) and not isinstance(value, bool):
        _check_int(value, what)
    elif not isinstance(value, bool):
        raise InvalidValueError(
            f"{what} must be a string, number, boolean or a list of one of them, "
            f"got {type(value).__name__} {shown(value)}"
        )


def _check_property(key: str, value: object, node: str) -> None:
    """A property value Neo4j stores as it is: a scalar, or a flat list whose elements all have
    one type (Neo4j refuses mixed lists and lists holding null, and turns ``[1, 2.5]`` into
    ``[1.0, 2.5]``)."""
    what = f"property {key!r} of node {node}"
    if not isinstance(value, list):
        _check_scalar(value, what)
        return
    kinds = {type(v) for v in value}
    if len(kinds) > 1:
        names = sorted(k.__name__ for k in kinds)
        raise InvalidValueError(f"{what} mixes {', '.join(names)}: a list holds one type, got {shown(value)}")
    for v in value:
        if isinstance(v, list):
            raise InvalidValueError(f"{what} must be a flat list, got {shown(value)}")
        _check_scalar(v, what)


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
        _check_id(self.id, "node id")
        node = shown(self.id)
        _check_str(self.text, f"text of node {node}", optional=True)
        _check_str(self.name, f"name of node {node}", optional=True, max_bytes=MAX_NAME_BYTES)
        if not isinstance(self.properties, Mapping):
            raise InvalidValueError(
                f"properties of node {node} must be a mapping, got {shown(self.properties)}"
            )
        for key, value in self.properties.items():
            validate_property_key(key)
            _check_property(key, value, node)
        return self


@dataclass(frozen=True, slots=True)
class Interaction:
    """User ``user`` interacted with item ``item``. One interaction per (user, item) pair.

    Online feedback (:mod:`kgrec.feedback`) sets ``kind`` (one of
    :data:`~kgrec.graph.schema.FEEDBACK_KINDS`) and ``source`` (who sent it); loaded data
    leaves both ``None``."""

    user: str
    item: str
    rating: float | None = None
    weight: float = 1.0
    timestamp: int | None = None
    split: str = "train"
    kind: str | None = None
    source: str | None = None

    def validated(self) -> "Interaction":
        _check_id(self.user, "interaction user id")
        _check_id(self.item, "interaction item id")
        pair = f"({shown(self.user)}, {shown(self.item)})"
        _check_number(self.rating, f"rating of {pair}", optional=True)
        _check_number(self.weight, f"weight of {pair}")
        if self.timestamp is not None:
            _check_int(self.timestamp, f"timestamp of {pair}")
        if not isinstance(self.split, str) or self.split not in SPLITS:
            raise InvalidValueError(f"split of {pair} must be one of {SPLITS}, got {shown(self.split)}")
        if self.kind is not None and self.kind not in FEEDBACK_KINDS:
            raise InvalidValueError(f"kind of {pair} must be one of {FEEDBACK_KINDS}, got {shown(self.kind)}")
        _check_str(self.source, f"source of {pair}", optional=True, max_bytes=MAX_NAME_BYTES)
        return self


@dataclass(frozen=True, slots=True)
class Triple:
    """A knowledge-graph edge ``(head)-[relation]->(tail)`` between items and entities, or a
    user attribute ``(user)-[relation]->(entity)`` (``has_occupation`` -> ``occupation:writer``):
    a user is never a tail, and a user head takes an entity tail only."""

    head: str
    relation: str
    tail: str
    head_label: NodeLabel = NodeLabel.ENTITY
    tail_label: NodeLabel = NodeLabel.ENTITY

    def validated(self) -> "Triple":
        _check_id(self.head, "triple head id")
        _check_id(self.tail, "triple tail id")
        validate_relation(self.relation)
        head, tail = NodeLabel.parse(self.head_label), NodeLabel.parse(self.tail_label)
        edge = f"{head.value} {shown(self.head)} -[{self.relation}]-> {tail.value} {shown(self.tail)}"
        if tail is NodeLabel.USER:
            raise InvalidValueError(
                f"a triple cannot end at a user ({edge}): triples connect items and entities, "
                "and a user to its attribute entities (user -> entity)"
            )
        if head is NodeLabel.USER and tail is not NodeLabel.ENTITY:
            raise InvalidValueError(
                f"a user attribute triple must end at an entity, not at an {tail.value} ({edge}): "
                "use an interaction for a user -> item edge"
            )
        return Triple(self.head, self.relation, self.tail, head, tail)


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

    A path through another user, ``user -> a <- peer -> item`` (a liked item or a user
    attribute ``a``, see :attr:`peer`), stands for every user who makes the same reason true:
    ``support`` counts them (distinct users other than ``nodes[0]``, the peer included; for a
    liked item ``a``, those who interacted with both ``a`` and the item; for an attribute, those
    holding it by the same relation who interacted with the item; interactions in the query's
    splits). The peer is only their representative. ``support`` is ``None`` for a path through
    no other user, or one not built by a store.
    """

    nodes: tuple[NodeRef, ...]
    relations: tuple[str, ...]
    forward: tuple[bool, ...]
    support: int | None = None

    def __len__(self) -> int:
        return len(self.relations)

    @property
    def peer(self) -> NodeRef | None:
        """The other user of a path ``user -> a <- peer -> item`` (``nodes[2]``), else None."""
        if len(self.relations) == 3 and self.nodes[2].label is NodeLabel.USER:
            return self.nodes[2]
        return None

    def aggregate_key(self) -> tuple[Any, ...]:
        """Equal for the paths that stand for the same users: the path with its :attr:`peer`
        left out (every node, for a path through no other user)."""
        nodes = self.nodes if self.peer is None else self.nodes[:2] + self.nodes[3:]
        return (tuple((n.label, n.id) for n in nodes), self.relations, self.forward)

    @property
    def starts_with_attribute(self) -> bool:
        """True when the path leaves its user through an attribute triple (``user -[attr]->
        entity``) rather than an interaction: ``user -> attribute <- peer -> item``."""
        return (
            self.nodes[0].label is NodeLabel.USER
            and len(self.relations) > 0
            and self.relations[0] != INTERACTED
        )

    def sort_key(self) -> tuple[Any, ...]:
        """Shorter first, then by node (label, id) sequence, then by relations."""
        return (
            len(self.relations),
            tuple((n.label, n.id) for n in self.nodes),  # a NodeLabel sorts as its str value
            tuple(zip(self.relations, self.forward)),
        )
