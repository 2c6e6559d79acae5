"""A store's graph out to Turtle or N-Triples, in the vocabulary :func:`load_rdf` reads back.

Loading the file into an empty store gives the same :class:`~kgrec.graph.Snapshot` and the same
node properties, except that a list-valued property becomes repeated statements, which come back
in file order (a one-value list as that value). The IRI scheme is described in ``_rdf_terms.py``.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
from rdflib import RDF, XSD, Graph, Literal, URIRef

from kgrec.errors import InvalidValueError
from kgrec.graph import GraphStore, NodeLabel, Snapshot
from kgrec.graph.schema import SPLITS

from ._rdf_terms import (
    CLASS_OF,
    INTERACTED,
    KGREC,
    NAME,
    PROPERTY,
    RATING,
    RELATION,
    SPLIT,
    TEXT,
    TIMESTAMP,
    WEIGHT,
    interaction_iri,
    node_iri,
)

log = logging.getLogger(__name__)

EXPORT_FORMATS = ("turtle", "nt")


def export_rdf(store: GraphStore, path: str | Path, format: str = "turtle") -> int:
    """Write every node (type, text, name, properties), interaction and triple of ``store`` to
    ``path`` as ``"turtle"`` or ``"nt"``; returns the number of RDF statements written.

    Raises :class:`InvalidValueError` for another format, or when one IRI id names nodes of
    two labels (RDF would merge them).
    """
    if format not in EXPORT_FORMATS:
        raise InvalidValueError(f"format must be one of {EXPORT_FORMATS}, got {format!r}")
    snapshot = store.snapshot()
    graph = Graph()
    for prefix, namespace in (("kgrec", KGREC), ("rel", RELATION), ("prop", PROPERTY)):
        graph.bind(prefix, namespace)
    iris = _add_nodes(graph, store, snapshot)
    _add_interactions(graph, snapshot, iris)
    for (head_type, relation, tail_type), edges in snapshot.triples.items():
        for h, t in edges.t().tolist():
            graph.add((iris[head_type][h], RELATION[relation], iris[tail_type][t]))
    graph.serialize(destination=str(path), format=format, encoding="utf-8")
    log.info("exported %d statements to %s", len(graph), path)
    return len(graph)


def _add_nodes(graph: Graph, store: GraphStore, snapshot: Snapshot) -> dict[str, list[URIRef]]:
    """Add every node; returns the IRIs aligned with ``snapshot.node_ids``."""
    iris: dict[str, list[URIRef]] = {}
    label_of: dict[URIRef, NodeLabel] = {}
    for label in NodeLabel:
        ids = snapshot.node_ids[label.key]
        iris[label.key] = [node_iri(label, i) for i in ids]
        for iri, record in zip(iris[label.key], store.get_nodes(label, ids) if ids else []):
            if label_of.setdefault(iri, label) is not label:
                raise InvalidValueError(
                    f"id {record.id!r} names nodes of two labels ({label_of[iri].value}, "
                    f"{label.value}): RDF would merge them into one resource"
                )
            graph.add((iri, RDF.type, CLASS_OF[label]))
            if record.text is not None:
                graph.add((iri, TEXT, Literal(record.text)))
            if record.name is not None:
                graph.add((iri, NAME, Literal(record.name)))
            for key, value in record.properties.items():
                for v in value if isinstance(value, list) else [value]:
                    graph.add((iri, PROPERTY[key], Literal(v)))
    return iris


def _float32(value: float) -> float:
    """The shortest decimal that reads back as the same float32 (snapshots hold float32)."""
    return float(str(np.float32(value)))


def _add_interactions(graph: Graph, snapshot: Snapshot, iris: dict[str, list[URIRef]]) -> None:
    table = snapshot.interactions
    rows = zip(
        *(
            t.tolist()
            for t in (
                table.user,
                table.item,
                table.rating,
                table.weight,
                table.timestamp,
                table.split,
            )
        )
    )
    for user, item, rating, weight, timestamp, split in rows:
        node = interaction_iri(snapshot.node_ids["user"][user], snapshot.node_ids["item"][item])
        graph.add((node, RDF.type, RDF.Statement))
        graph.add((node, RDF.subject, iris["user"][user]))
        graph.add((node, RDF.predicate, INTERACTED))
        graph.add((node, RDF.object, iris["item"][item]))
        if not math.isnan(rating):
            graph.add((node, RATING, Literal(_float32(rating), datatype=XSD.double)))
        graph.add((node, WEIGHT, Literal(_float32(weight), datatype=XSD.double)))
        if timestamp != -1:  # a snapshot's "no timestamp"
            graph.add((node, TIMESTAMP, Literal(timestamp, datatype=XSD.long)))
        graph.add((node, SPLIT, Literal(SPLITS[split])))
