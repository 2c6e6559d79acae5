"""The graph schema: node labels, the interaction relationship, and the name rule.

Labels are fixed (:class:`NodeLabel`). Knowledge-graph relationship types come from data, so they
are checked by :func:`validate_relation` before they ever reach a Cypher string; every *value*
goes into Cypher as a parameter. The versioned Cypher and its RDF description live in
``graph_schema/`` (installed as ``kgrec.graph_schema``).
"""

from __future__ import annotations

import re
from enum import Enum
from importlib import resources

from kgrec.errors import InvalidNameError

SCHEMA_VERSION = 1

#: The relationship type of user -> item interactions (ratings, clicks, purchases).
INTERACTED = "INTERACTED"

#: Interaction splits known to the store. Paths and training use ``train`` unless told otherwise.
SPLITS = ("train", "valid", "test")

#: Node properties the store manages itself; user properties may not reuse these keys.
RESERVED_PROPERTIES = frozenset({"id", "text", "name"})

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


class NodeLabel(str, Enum):
    """The three kinds of node. ``value`` is the Neo4j label; ``key`` the snapshot node type."""

    USER = "User"
    ITEM = "Item"
    ENTITY = "Entity"

    @property
    def key(self) -> str:
        return self._value_.lower()  # not .value: hot in path ranking, the enum getter is slow

    @classmethod
    def parse(cls, label: "str | NodeLabel") -> "NodeLabel":
        """Accept ``NodeLabel.ITEM``, ``"Item"`` or ``"item"``; reject anything else."""
        if isinstance(label, NodeLabel):
            return label
        member = _LABELS.get(label) if isinstance(label, str) else None
        if member is not None:
            return member
        raise InvalidNameError(
            f"unknown node label {label!r}: expected one of {[m.value for m in cls]}"
        )


_LABELS = {name: member for member in NodeLabel for name in (member.value, member.key)}


def validate_name(name: object, what: str = "name") -> str:
    """Return ``name`` if it matches ``[A-Za-z][A-Za-z0-9_]{0,63}``, else raise.

    The rule admits nothing that could close a backtick, bracket or comment in Cypher.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidNameError(
            f"invalid {what} {name!r}: must match [A-Za-z][A-Za-z0-9_]{{0,63}} "
            "(letters, digits and underscores, starting with a letter)"
        )
    return name


def validate_relation(name: object) -> str:
    """Validate a knowledge-graph relationship type taken from data."""
    rel = validate_name(name, "relation name")
    if rel == INTERACTED:
        raise InvalidNameError(f"relation name {rel!r} is reserved for user-item interactions")
    return rel


def validate_property_key(key: object) -> str:
    """Validate a user-supplied node property key (not one the store manages)."""
    k = validate_name(key, "property key")
    if k in RESERVED_PROPERTIES or k.startswith("embedding"):
        raise InvalidNameError(f"property key {k!r} is reserved by kgrec")
    return k


def validate_embedding_property(name: object) -> str:
    """Embedding properties are ``embedding`` or ``embedding_<suffix>``."""
    prop = validate_name(name, "embedding property")
    if not (prop == "embedding" or prop.startswith("embedding_")):
        raise InvalidNameError(
            f"invalid embedding property {prop!r}: must be 'embedding' or start with 'embedding_'"
        )
    return prop


def schema_statements() -> list[str]:
    """The idempotent Cypher statements of ``graph_schema/schema.cypher``, in order."""
    text = resources.files("kgrec.graph_schema").joinpath("schema.cypher").read_text("utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))
    return [s.strip() for s in body.split(";") if s.strip()]


def schema_turtle() -> str:
    """The RDF (Turtle) description of the same schema."""
    return resources.files("kgrec.graph_schema").joinpath("schema.ttl").read_text("utf-8")


VECTOR_SIMILARITIES = ("cosine", "euclidean")


def vector_index_name(label: "str | NodeLabel") -> str:
    return f"{NodeLabel.parse(label).key}_embedding"
