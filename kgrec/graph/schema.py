"""The graph schema: node labels, the interaction relationship, and the name rule.

Labels are fixed (:class:`NodeLabel`); a Neo4j store spells them in a :class:`Namespace`
(``KgrecItem``), so that kgrec shares a database with other data. Knowledge-graph relationship
types come from data, so they are checked by :func:`validate_relation` before they ever reach a
Cypher string; every *value* goes into Cypher as a parameter. The versioned Cypher and its RDF
description live in ``graph_schema/`` (installed as ``kgrec.graph_schema``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from importlib import resources

from kgrec.errors import InvalidNameError, shown

SCHEMA_VERSION = 1

#: The relationship type of user -> item interactions (ratings, clicks, purchases).
INTERACTED = "INTERACTED"

#: Interaction splits known to the store. Paths and training use ``train`` unless told otherwise;
#: ``feedback`` holds online feedback on pairs that had no interaction (see :mod:`kgrec.feedback`).
SPLITS = ("train", "valid", "test", "feedback")

#: Kinds of online feedback an interaction may carry (its ``kind``; see :mod:`kgrec.feedback`).
FEEDBACK_KINDS = ("like", "dislike", "rating", "watch")

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
            f"unknown node label {shown(label)}: expected one of {[m.value for m in cls]}"
        )


_LABELS = {name: member for member in NodeLabel for name in (member.value, member.key)}


def validate_name(name: object, what: str = "name") -> str:
    """Return ``name`` if it matches ``[A-Za-z][A-Za-z0-9_]{0,63}``, else raise.

    The rule admits nothing that could close a backtick, bracket or comment in Cypher.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidNameError(
            f"invalid {what} {shown(name)}: must match [A-Za-z][A-Za-z0-9_]{{0,63}} "
            "(letters, digits and underscores, starting with a letter)"
        )
    return name


def validate_relation(name: object) -> str:
    """Validate a knowledge-graph relationship type taken from data."""
    rel = validate_name(name, "relation name")
    if rel == INTERACTED:
        raise InvalidNameError(f"relation name {shown(rel)} is reserved for user-item interactions")
    return rel


def validate_property_key(key: object) -> str:
    """Validate a user-supplied node property key (not one the store manages)."""
    k = validate_name(key, "property key")
    if k in RESERVED_PROPERTIES or k.startswith("embedding"):
        raise InvalidNameError(f"property key {shown(k)} is reserved by kgrec")
    return k


def validate_embedding_property(name: object) -> str:
    """Embedding properties are ``embedding`` or ``embedding_<suffix>``."""
    prop = validate_name(name, "embedding property")
    if not (prop == "embedding" or prop.startswith("embedding_")):
        raise InvalidNameError(
            f"invalid embedding property {shown(prop)}: must be 'embedding' or start with 'embedding_'"
        )
    return prop


#: The default label namespace: kgrec's nodes are ``KgrecUser``, ``KgrecItem``, ``KgrecEntity``.
DEFAULT_NAMESPACE = "Kgrec"

_NAMESPACE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")


@dataclass(frozen=True, slots=True)
class Namespace:
    """How a Neo4j store spells kgrec's node labels and schema names, so that kgrec shares a
    database with other data: the label of a :class:`NodeLabel` is ``prefix + label.value``
    (``KgrecItem``), a constraint or index name ``prefix + "_" + name`` (``Kgrec_item_id``).
    ``prefix=""`` gives the plain ``User``/``Item``/``Entity`` and names, for a database kgrec
    has to itself. Two prefixes never spell the same label or name."""

    prefix: str = DEFAULT_NAMESPACE

    def __post_init__(self) -> None:
        if not isinstance(self.prefix, str) or not (
            self.prefix == "" or _NAMESPACE.fullmatch(self.prefix)
        ):
            raise InvalidNameError(
                f"invalid label namespace {shown(self.prefix)}: must be empty or match "
                "[A-Za-z][A-Za-z0-9_]{0,31}"
            )

    def label(self, label: "str | NodeLabel") -> str:
        """The Neo4j label of ``label`` (validated) in this namespace."""
        return self.prefix + NodeLabel.parse(label).value

    @property
    def labels(self) -> dict[str, NodeLabel]:
        """``{neo4j label: NodeLabel}`` for every member, in enum order: reads map
        ``labels(n)`` back with it."""
        return {self.label(member): member for member in NodeLabel}

    @property
    def name_prefix(self) -> str:
        """What constraint and index names start with: ``"<prefix>_"``, or ``""``."""
        return f"{self.prefix}_" if self.prefix else ""

    def schema_name(self, name: str) -> str:
        """The name of a constraint or index (``item_id``, ``item_embedding``) in this
        namespace (``name`` validated)."""
        return self.name_prefix + validate_name(name, "schema name")


def schema_statements(namespace: Namespace = Namespace()) -> list[str]:
    """The idempotent Cypher statements of ``graph_schema/schema.cypher`` for ``namespace``,
    in order (the file is a template: ``{User}`` etc. are labels, ``{ns}`` the name prefix)."""
    text = resources.files("kgrec.graph_schema").joinpath("schema.cypher").read_text("utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))
    names = {member.value: label for label, member in namespace.labels.items()}
    return [
        s.strip().format(ns=namespace.name_prefix, **names) for s in body.split(";") if s.strip()
    ]


def schema_turtle() -> str:
    """The RDF (Turtle) description of the same schema."""
    return resources.files("kgrec.graph_schema").joinpath("schema.ttl").read_text("utf-8")


VECTOR_SIMILARITIES = ("cosine", "euclidean")


def vector_index_name(label: "str | NodeLabel", property: str = "embedding") -> str:
    """The vector index of ``label.property``: ``item_embedding`` for the model embeddings,
    ``entity_embedding_text`` for ``property="embedding_text"`` (one index per pair)."""
    return f"{NodeLabel.parse(label).key}_{validate_embedding_property(property)}"
