"""kgrec's RDF vocabulary: how nodes, relations, properties and interactions are named in RDF.

- A node whose id is an absolute IRI (``scheme://...`` or ``urn:...``) is that IRI; any other
  id is minted as ``https://kgrec.dev/id/<user|item|entity>/<percent-encoded id>``. Nodes are typed
  ``kgrec:User``, ``kgrec:Item`` or ``kgrec:Entity`` (the classes of ``graph_schema/schema.ttl``).
- Relation ``r`` is the predicate ``https://kgrec.dev/relation/r``; property ``k`` is
  ``https://kgrec.dev/property/k``; text and name are ``kgrec:text`` and ``kgrec:name``.
- An interaction is a reified statement ``https://kgrec.dev/id/interaction/<user>/<item>`` with
  ``rdf:subject`` (the user), ``rdf:predicate kgrec:INTERACTED``, ``rdf:object`` (the item) and
  ``kgrec:rating``, ``kgrec:weight``, ``kgrec:timestamp``, ``kgrec:split``.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

from rdflib import Namespace, URIRef

from kgrec.graph import NodeLabel

KGREC = Namespace("https://kgrec.dev/schema#")
RELATION = Namespace("https://kgrec.dev/relation/")
PROPERTY = Namespace("https://kgrec.dev/property/")
ID_BASE = "https://kgrec.dev/id/"
INTERACTION_BASE = f"{ID_BASE}interaction/"

# Item access: ``KGREC.split`` would be ``str.split``.
TEXT, NAME, INTERACTED = KGREC["text"], KGREC["name"], KGREC["INTERACTED"]
RATING, WEIGHT, TIMESTAMP, SPLIT = (KGREC[k] for k in ("rating", "weight", "timestamp", "split"))

CLASS_OF = {label: KGREC[label.value] for label in NodeLabel}
LABEL_OF = {cls: label for label, cls in CLASS_OF.items()}

# "scheme://..." or "urn:...", with no character that N-Triples forbids inside <...>.
_ABSOLUTE_IRI = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*://|urn:)[^\s<>\"{}|\\^`]+")


def node_iri(label: NodeLabel, node_id: str) -> URIRef:
    """The IRI of node ``(label, node_id)``: the id itself when it is an absolute IRI."""
    if _ABSOLUTE_IRI.fullmatch(node_id) and not node_id.startswith(ID_BASE):
        return URIRef(node_id)
    return URIRef(f"{ID_BASE}{label.key}/{quote(node_id, safe='')}")


def parse_node_iri(iri: str) -> tuple[NodeLabel | None, str]:
    """``(label, id)`` of a node IRI; the label is None unless the IRI was minted by
    :func:`node_iri`."""
    if iri.startswith(ID_BASE):
        key, _, encoded = iri[len(ID_BASE) :].partition("/")
        for label in NodeLabel:
            if key == label.key and encoded:
                return label, unquote(encoded)
    return None, iri


def interaction_iri(user: str, item: str) -> URIRef:
    return URIRef(f"{INTERACTION_BASE}{quote(user, safe='')}/{quote(item, safe='')}")
