"""Names that would inject Cypher are refused before any query runs; the graph is untouched."""

from __future__ import annotations

import numpy as np
import pytest

from kgrec import InvalidNameError, NodeRecord, Triple
from kgrec.graph import cypher
from kgrec.graph.schema import Namespace
from tests.graph.graphs import toy_graph

HOSTILE = [
    "x]->() DETACH DELETE n //",
    "a`b",
    "a` DETACH DELETE n //",
    "director}) MATCH (n) DETACH DELETE n //",
    "",
    "1director",
    "dir ector",
    "réalisateur",
    "x" * 65,
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_relation_names(store, name):
    toy_graph(store)
    before = store.snapshot()
    with pytest.raises(InvalidNameError, match="relation name"):
        store.upsert_triples([Triple("alien", name, "ridley", "Item")])
    with pytest.raises(InvalidNameError):
        store.neighbours("Item", "alien", relation=name)
    after = store.snapshot()
    assert after.equals(before)
    assert store.stats().nodes == {"User": 2, "Item": 4, "Entity": 2}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_property_keys_and_embedding_properties(store, name):
    toy_graph(store)
    before = store.snapshot()
    with pytest.raises(InvalidNameError):
        store.upsert_nodes("Item", [NodeRecord("alien", properties={name: 1})])
    with pytest.raises(InvalidNameError):
        store.write_embeddings("Item", ["alien"], np.ones((1, 2)), property=name)
    assert store.snapshot().equals(before)


@pytest.mark.parametrize("label", ["Item) DETACH DELETE n //", "Person", "ITEM", 3])
def test_unknown_labels(store, label):
    with pytest.raises(InvalidNameError, match="node label"):
        store.upsert_nodes(label, [NodeRecord("x")])


def test_reserved_names(store):
    with pytest.raises(InvalidNameError, match="reserved"):
        store.upsert_triples([Triple("a", "INTERACTED", "b")])
    with pytest.raises(InvalidNameError, match="reserved"):
        store.upsert_nodes("Item", [NodeRecord("x", properties={"id": "y"})])


def test_render_revalidates():
    ns = Namespace()
    with pytest.raises(InvalidNameError):
        cypher.render(cypher.UPSERT_TRIPLES, ns, head_label="Item", tail_label="Entity", relation="a`b")
    with pytest.raises(ValueError):
        cypher.render(cypher.PATHS, ns, max_hops="3}]-(x) DETACH DELETE x //")
    with pytest.raises(ValueError, match="delete"):
        cypher.render(cypher.DELETE_NODES, ns, delete="MATCH (x) DETACH DELETE")


@pytest.mark.parametrize("prefix", ["Kgrec) DETACH DELETE n //", "1abc", "a`b", "x" * 33, None])
def test_hostile_namespaces_are_refused(prefix):
    with pytest.raises(InvalidNameError, match="namespace"):
        Namespace(prefix)
