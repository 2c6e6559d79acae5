"""How RDF statements become nodes, properties, interactions and triples (used by ``load_rdf``).

The mapping reads every statement once (:meth:`RdfMapping.read`), checking it and keeping
everything except the triples; :meth:`RdfMapping.graph_data` then builds the nodes and
interactions, and :meth:`RdfMapping.triples` turns a second read of the same statements into
triples. So an N-Triples file never has to be held in memory, and a bad statement is found
before anything is written.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterable, Iterator

from rdflib import RDF, BNode, Literal, URIRef
from rdflib.term import Node

from kgrec.errors import SHOWN_MAX, DataFormatError, shown
from kgrec.graph import Interaction, NodeLabel, NodeRecord, Triple
from kgrec.graph.records import Scalar
from kgrec.graph.schema import SPLITS

from ._graph import GraphData
from ._io import checked_property_key
from ._relations import RelationMap, RelationNames
from ._rdf_terms import (
    INTERACTED,
    INTERACTION_BASE,
    LABEL_OF,
    NAME,
    RATING,
    SPLIT,
    TEXT,
    TIMESTAMP,
    WEIGHT,
    parse_node_iri,
)

#: ``(subject, predicate, object, line)``; the line is None for formats parsed as a whole.
Statement = tuple[Node, Node, Node, "int | None"]

_INTERACTION_FIELDS = {
    RDF.subject: "user",
    RDF.object: "item",
    RATING: "rating",
    WEIGHT: "weight",
    TIMESTAMP: "timestamp",
    SPLIT: "split",
}


def _iri(term: object) -> str:
    """``<iri>`` for an error message, cut to :data:`~kgrec.errors.SHOWN_MAX` characters."""
    text = str(term)
    if len(text) <= SHOWN_MAX:
        return f"<{text}>"
    return f"<{text[:SHOWN_MAX]}...> ({len(text):,} characters)"


def _kind(s: Node, p: Node, o: Node) -> str:
    """``blank``, ``interaction``, ``literal``, ``type`` (a kgrec class) or ``relation``."""
    if isinstance(s, BNode) or isinstance(o, BNode):
        return "blank"
    if str(s).startswith(INTERACTION_BASE):
        return "interaction"
    if isinstance(o, Literal):
        return "literal"
    if p == RDF.type and o in LABEL_OF:
        return "type"
    return "relation"


def _scalar(literal: Literal) -> Scalar:
    """A string, 64-bit int, finite float or bool for a property; else the lexical form."""
    value = literal.toPython()
    if isinstance(value, Literal):  # rdflib had no Python type for it
        return str(literal)
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return str(literal)


def _property_value(literals: list[Literal]) -> Scalar | list[Scalar]:
    """One value, or a list of values of one type (lexical forms when the types differ)."""
    values = [_scalar(lit) for lit in literals]
    if len({type(v) for v in values}) > 1:
        values = [str(lit) for lit in literals]
    return values[0] if len(values) == 1 else values


class RdfMapping:
    """The first pass over a file's statements, and what it learnt.

    Args:
        path: the file, for error messages.
        relation_map: predicate IRI -> relation name or property key; ``None`` skips it. A
            mapping or a function (see :class:`~loaders._relations.RelationNames`); unmapped
            predicates use :func:`~loaders._relations.default_relation_name` of the IRI.
        text_predicate: literal predicate giving a node's text and name (first one read wins);
            ``kgrec:text`` and ``kgrec:name`` set them exactly and take precedence.
        is_item: decides which IRIs with no kgrec type are items (the rest are entities).
    """

    def __init__(
        self,
        path: Path,
        relation_map: RelationMap | None,
        text_predicate: URIRef,
        is_item: Callable[[str], bool],
    ) -> None:
        self.path = path
        self.names = RelationNames(relation_map)  # predicate -> relation name or property key
        self.text_predicate = text_predicate
        self.is_item = is_item
        self.labels: dict[str, NodeLabel | None] = {}  # node IRI -> label, if typed or minted
        self.endpoints: dict[str, int | None] = {}  # node IRI -> first line it is a triple's object
        self.user_objects: dict[str, int | None] = {}  # the same, for objects of a user's triple
        self.texts: dict[URIRef, dict[str, str]] = {
            TEXT: {},
            NAME: {},
            text_predicate: {},
        }
        self.properties: dict[str, dict[str, list[Literal]]] = defaultdict(dict)
        self.interactions: dict[str, dict] = {}
        self.skipped = 0
        self.resolved: dict[str, tuple[NodeLabel, str]] = {}

    def _error(self, problem: str, line: int | None) -> DataFormatError:
        return DataFormatError(self.path, problem, line)

    # -- pass one ---------------------------------------------------------------------------------
    def read(self, s: Node, p: Node, o: Node, line: int | None) -> None:
        """Check and take in one statement (anything but a triple)."""
        kind = _kind(s, p, o)
        if kind == "blank":
            self.skipped += 1
        elif kind == "interaction":
            self._interaction(str(s), p, o, line)
        elif kind == "type":
            self._node(str(s), LABEL_OF[o], line)
        elif kind == "literal":
            self._node(str(s), None, line)
            self._literal(str(s), p, o, line)
        elif self.names.relation(str(p), self.path, line) is None:
            self.skipped += 1
        else:
            for node in (str(s), str(o)):
                self._node(node, None, line)
            self.endpoints.setdefault(str(o), line)
            if self.labels[str(s)] is NodeLabel.USER:  # a user attribute: its object is an entity
                self.user_objects.setdefault(str(o), line)

    def _node(self, iri: str, label: NodeLabel | None, line: int | None) -> None:
        if iri not in self.labels:
            self.labels[iri] = parse_node_iri(iri)[0]
        known = self.labels[iri]
        if label is not None and known not in (None, label):
            raise self._error(f"{_iri(iri)} is typed both {known.value} and {label.value}", line)
        self.labels[iri] = known or label

    def _literal(self, iri: str, predicate: Node, literal: Literal, line: int | None) -> None:
        if predicate in self.texts:
            self.texts[predicate].setdefault(iri, str(literal))
            return
        key = self.names.name(str(predicate), self.path, line)
        if key is None:
            self.skipped += 1
            return
        hint = f"; map {_iri(predicate)} to another key, or to None to skip it"
        checked_property_key(key, self.path, line, hint + ", in relation_map")
        self.properties[iri].setdefault(key, []).append(literal)

    def _interaction(self, iri: str, predicate: Node, value: Node, line: int | None) -> None:
        parts = self.interactions.setdefault(iri, {"line": line})
        if predicate == RDF.type:
            return
        if predicate == RDF.predicate:
            if value != INTERACTED:
                raise self._error(
                    f"interaction {_iri(iri)} must have rdf:predicate kgrec:INTERACTED", line
                )
            return
        field = _INTERACTION_FIELDS.get(predicate)
        if field is None:
            raise self._error(
                f"unexpected predicate {_iri(predicate)} on interaction {_iri(iri)}", line
            )
        if field in ("user", "item"):
            if not isinstance(value, URIRef):
                raise self._error(f"the {field} of interaction {_iri(iri)} must be an IRI", line)
            self._node(str(value), NodeLabel.USER if field == "user" else NodeLabel.ITEM, line)
        parts[field] = value

    # -- results ----------------------------------------------------------------------------------
    def graph_data(self, triple_chunks: Iterable[list[Triple]]) -> GraphData:
        """Nodes and interactions from pass one; triples from ``triple_chunks``."""
        nodes: dict[NodeLabel, list[NodeRecord]] = {label: [] for label in NodeLabel}
        text, name, label_text = (self.texts[k] for k in (TEXT, NAME, self.text_predicate))
        for iri, label in self.labels.items():
            label = label or (NodeLabel.ITEM if self.is_item(iri) else NodeLabel.ENTITY)
            if label is NodeLabel.USER and iri in self.endpoints:
                problem = "a triple cannot end at a user (users link to attribute entities only)"
                raise self._error(f"{_iri(iri)} is a User: {problem}", self.endpoints[iri])
            if iri in self.user_objects and label is not NodeLabel.ENTITY:
                problem = f"a user attribute must end at an entity, {_iri(iri)} is an {label.value}"
                raise self._error(problem, self.user_objects[iri])
            node_id = parse_node_iri(iri)[1]
            self.resolved[iri] = (label, node_id)
            nodes[label].append(
                NodeRecord(
                    node_id,
                    text.get(iri, label_text.get(iri)),
                    name.get(iri, label_text.get(iri)),
                    {k: _property_value(v) for k, v in self.properties.get(iri, {}).items()},
                )
            )
        interactions = [
            self._interaction_record(iri, parts) for iri, parts in self.interactions.items()
        ]
        return GraphData(
            nodes, interactions, triple_chunks, self.skipped, dict(self.names.relations)
        )

    def _interaction_record(self, iri: str, parts: dict) -> Interaction:
        line = parts["line"]
        if "user" not in parts or "item" not in parts:
            raise self._error(
                f"interaction {_iri(iri)} needs rdf:subject (user) and rdf:object (item)", line
            )

        def number(field: str, integer: bool = False) -> float | int | None:
            if field not in parts:
                return None
            value = parts[field].toPython() if isinstance(parts[field], Literal) else None
            kinds = int if integer else (int, float)
            if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
                what = "an integer" if integer else "a finite number"
                raise self._error(f"{field} of interaction {_iri(iri)} must be {what}", line)
            return value

        split = str(parts.get("split", "train"))
        if split not in SPLITS:
            raise self._error(
                f"split of interaction {_iri(iri)} must be one of {SPLITS}, "
                f"found {shown(split)}",
                line,
            )
        rating, weight = number("rating"), number("weight")
        return Interaction(
            self.resolved[str(parts["user"])][1],
            self.resolved[str(parts["item"])][1],
            rating=None if rating is None else float(rating),
            weight=1.0 if weight is None else float(weight),
            timestamp=number("timestamp", integer=True),
            split=split,
        )

    # -- pass two ---------------------------------------------------------------------------------
    def triples(self, statements: Iterable[Statement]) -> Iterator[Triple]:
        """The triples among ``statements`` (the same statements pass one read)."""
        for s, p, o, _ in statements:
            if _kind(s, p, o) != "relation" or str(p) not in self.names.relations:
                continue
            head_label, head = self.resolved[str(s)]
            tail_label, tail = self.resolved[str(o)]
            yield Triple(head, self.names.relations[str(p)], tail, head_label, tail_label)
