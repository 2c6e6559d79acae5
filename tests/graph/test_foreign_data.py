"""kgrec shares a Neo4j database with other data: it never reads, counts or deletes a node or
relationship it did not write (defect 1 of issue #9, store side)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kgrec import Interaction, KgrecError, MemoryGraphStore, Neo4jGraphStore, NodeRecord, Triple
from kgrec.errors import UnknownIdError
from kgrec.graph import CandidateQuery
from kgrec.models import KGRecModel, MatrixFactorization, training_graph
from kgrec.recommender import Recommender
from kgrec.train import Trainer, TrainConfig
from tests.graph.graphs import random_graph, toy_graph

pytestmark = pytest.mark.neo4j

# Another application's graph: plain User/Movie/Customer labels, ids kgrec also uses, an
# INTERACTED relationship and a relationship type kgrec's KG uses (has_genre). Every node
# carries `foreign: true` so that the test can remove it afterwards.
FOREIGN = """
CREATE (u:User {id: '1', name: 'their user', foreign: true}),
       (i:Item {id: '1', foreign: true}),
       (m:Movie {id: '1', title: 'Their film', foreign: true}),
       (g:Genre {id: 'e1', foreign: true}),
       (c:Customer {id: 'c1', since: 2020, foreign: true}),
       (d:Customer {id: 'c2', foreign: true}),
       (u)-[:INTERACTED {rating: 5.0, split: 'train'}]->(m),
       (u)-[:INTERACTED {split: 'train'}]->(i),
       (m)-[:has_genre]->(g),
       (i)-[:director]->(g),
       (c)-[:BOUGHT {qty: 2}]->(m),
       (c)-[:KNOWS]->(d)
"""

# Everything that is not kgrec's, by element id: nodes and relationships with at least one end
# outside the namespace.
DUMP_NODES = """
MATCH (n) WHERE NOT n:KgrecUser|KgrecItem|KgrecEntity
RETURN elementId(n) AS id, labels(n) AS labels, properties(n) AS properties ORDER BY id
"""
DUMP_RELATIONSHIPS = """
MATCH (a)-[r]->(b) WHERE NOT (a:KgrecUser|KgrecItem|KgrecEntity AND b:KgrecUser|KgrecItem|KgrecEntity)
RETURN elementId(r) AS id, type(r) AS type, properties(r) AS properties,
       elementId(a) AS start, elementId(b) AS end ORDER BY id
"""


def dump(driver) -> tuple[list[dict], list[dict]]:
    return tuple(
        [r.data() for r in driver.execute_query(query)[0]] for query in (DUMP_NODES, DUMP_RELATIONSHIPS)
    )


@pytest.fixture
def foreign(neo4j_driver):
    """Writes the foreign graph, yields a dump of all non-kgrec data, removes it afterwards."""
    neo4j_driver.execute_query(FOREIGN)
    yield dump(neo4j_driver)
    neo4j_driver.execute_query("MATCH (n {foreign: true}) DETACH DELETE n")


def same_graph(store) -> None:
    """A small graph with user id '1' and item id '1', like the foreign ones."""
    random_graph(store, seed=5, users=10, items=30, entities=6)
    store.upsert_nodes("User", [NodeRecord("1", "a user with a foreign twin")])
    store.upsert_interactions([Interaction("1", "1"), Interaction("1", "2")])
    store.upsert_triples([Triple("1", "has_genre", "e1", "Item")])


def test_foreign_data_survives_load_reads_training_and_clear(neo4j_store, neo4j_driver, foreign, tmp_path):
    memory = MemoryGraphStore()
    for store in (memory, neo4j_store):
        same_graph(store)

    # Reads see kgrec's graph only, exactly as the embedded store does.
    assert neo4j_store.stats() == memory.stats()
    snapshot = memory.snapshot()
    assert neo4j_store.snapshot().equals(snapshot)
    assert neo4j_store.neighbours("User", "1") == memory.neighbours("User", "1")
    assert neo4j_store.neighbours("Item", "1") == memory.neighbours("Item", "1")
    assert neo4j_store.neighbours("Entity", "e1") == memory.neighbours("Entity", "e1")
    items = snapshot.node_ids["item"]
    for user in ("1", "u0", "u3"):
        assert neo4j_store.paths(user, items, limit=1000) == memory.paths(user, items, limit=1000)

    # Vector search finds kgrec's items only.
    vectors = np.random.default_rng(0).normal(size=(len(items), 4)).astype(np.float32)
    neo4j_store.write_embeddings("Item", items, vectors)
    neo4j_store.create_vector_index("Item", dimensions=4, replace=True)
    hits = neo4j_store.query_vector_index("Item", vectors[0], k=len(items) + 5)
    assert {i for i, _ in hits} <= set(items) and hits[0][0] == items[0]

    # A short training, then explained recommendations from the store.
    torch.manual_seed(0)
    model = KGRecModel(training_graph(snapshot), channels=8, feature_mode="id")
    Trainer(model, snapshot, TrainConfig(epochs=1, batch_size=64, progress=False)).fit(tmp_path)
    rec = Recommender(model, neo4j_store, snapshot)
    recs = rec.recommend("1", k=5)
    assert recs and all(r.item_id in items for r in recs)
    explained = [r.explanation for r in recs if r.explanation.paths]
    assert explained and "KgrecUser:1" in explained[0].to_html()
    for explanation in explained:
        query, params = explanation.cypher()
        assert len(neo4j_driver.execute_query(query, params)[0]) == 1
    rec.publish_embeddings()
    assert rec.recommend("1", k=5, candidates=10)

    neo4j_store.clear()
    assert neo4j_store.stats().nodes == {"User": 0, "Item": 0, "Entity": 0}
    assert neo4j_store.stats().relationships == {}
    assert dump(neo4j_driver) == foreign


# Foreign nodes linked to kgrec's with KG relationship types: a foreign film between the genre
# e1, the entity e2 and kgrec's films 3 and "lonely" (which has no KG link of its own), and a
# foreign genre with kgrec's id e1 on film 3.
FOREIGN_LINKS = """
MATCH (m:Movie {id: '1'}), (g:Genre {id: 'e1'}), (e1:KgrecEntity {id: 'e1'}),
      (e2:KgrecEntity {id: 'e2'}), (i:KgrecItem {id: '3'}), (lonely:KgrecItem {id: 'lonely'})
CREATE (m)-[:has_genre]->(e1), (m)-[:director]->(e2), (m)-[:director]->(lonely),
       (m)-[:sequel_of]->(i), (i)-[:has_genre]->(g)
"""


def test_request_candidates_never_reach_foreign_nodes(neo4j_store, neo4j_driver, foreign):
    memory = MemoryGraphStore()
    for store in (memory, neo4j_store):
        same_graph(store)
        store.upsert_nodes("Item", [NodeRecord("lonely")])
    neo4j_driver.execute_query(FOREIGN_LINKS)
    before = dump(neo4j_driver)
    requests = [
        dict(entities=["e1"]),
        dict(entities=["e1", "e2"], items=["1", "3"], limit=7),
        dict(items=["1"], relations=["has_genre", "director"]),
        dict(required=["e1"]),
        dict(excluded_entities=["e1"], excluded_items=["1"]),
        dict(items=["lonely"]),
    ]
    for request in requests:
        query = CandidateQuery.checked(**request)
        found = neo4j_store.request_candidates(query)
        assert found == memory.request_candidates(query), request
        assert "lonely" not in [c.item for c in found if c.entities or c.items], request
    assert neo4j_store.request_candidates(CandidateQuery.checked(items=["lonely"])) == []
    with pytest.raises(UnknownIdError):  # a foreign node's id is no kgrec node
        neo4j_store.request_candidates(CandidateQuery.checked(entities=["c1"]))
    assert dump(neo4j_driver) == before


def test_clear_refuses_to_cut_a_foreign_link_unless_told(neo4j_store, neo4j_driver, foreign):
    toy_graph(neo4j_store)
    before = neo4j_store.snapshot()
    neo4j_driver.execute_query(
        "MATCH (c:Customer {id: 'c1'}), (i:KgrecItem {id: 'alien'}) CREATE (c)-[:LIKES]->(i)"
    )
    with pytest.raises(KgrecError, match=r"1 of kgrec's nodes .* have 1 relationship\(s\) to other nodes"):
        neo4j_store.clear()
    assert neo4j_store.snapshot().equals(before)  # nothing deleted
    neo4j_store.clear(detach_foreign=True)
    assert neo4j_store.stats().nodes == {"User": 0, "Item": 0, "Entity": 0}
    assert dump(neo4j_driver) == foreign  # the Customer is there; only its LIKES went


def test_two_namespaces_share_a_database(neo4j_store, neo4j_driver):
    other = Neo4jGraphStore(neo4j_driver, namespace="Other")
    try:
        mine, theirs = MemoryGraphStore(), MemoryGraphStore()
        toy_graph(neo4j_store)
        toy_graph(mine)
        random_graph(other, seed=1)
        random_graph(theirs, seed=1)
        assert neo4j_store.snapshot().equals(mine.snapshot())
        assert other.snapshot().equals(theirs.snapshot())
        assert other.stats() == theirs.stats()

        # Same logical index name, two server indexes of different sizes.
        neo4j_store.write_embeddings("Item", ["alien", "dune"], np.eye(2, 3, dtype=np.float32))
        other.write_embeddings("Item", ["0", "1"], np.eye(2, 5, dtype=np.float32))
        name = neo4j_store.create_vector_index("Item", 3, replace=True)
        assert name == other.create_vector_index("Item", 5, replace=True)
        assert neo4j_store.query_vector_index("Item", np.eye(3)[1], k=1)[0][0] == "dune"
        assert other.query_vector_index("Item", np.eye(5)[0], k=1)[0][0] == "0"
        records, _, _ = neo4j_driver.execute_query("SHOW INDEXES YIELD name")
        assert {"Kgrec_item_embedding", "Other_item_embedding", "Other_item_name"} <= {
            r["name"] for r in records
        }

        # Explanations spell the store's labels: their Cypher finds the paths in the namespace.
        snapshot = other.snapshot()
        torch.manual_seed(0)
        model = MatrixFactorization(training_graph(snapshot), channels=8)
        explanation = Recommender(model, other, snapshot).recommend("u1", k=1)[0].explanation
        query, params = explanation.cypher()
        assert "(:OtherUser {id: $p0n0})" in explanation.browser_cypher()
        assert "Kgrec" not in query and len(neo4j_driver.execute_query(query, params)[0]) == 1

        neo4j_store.clear()
        assert other.snapshot().equals(theirs.snapshot())
    finally:
        other.clear()


def test_clear_never_cuts_a_foreign_link_made_while_it_runs(neo4j_store, neo4j_driver, foreign, monkeypatch):
    toy_graph(neo4j_store)
    query = neo4j_store._query

    def link_first(text, *args, **params):  # another client links in, between the two phases
        if "DELETE n" in text and "DETACH" not in text:
            neo4j_driver.execute_query(
                "MATCH (c:Customer {id: 'c1'}), (i:KgrecItem {id: 'dune'}) CREATE (c)-[:LIKES]->(i)"
            )
            monkeypatch.setattr(neo4j_store, "_query", query)
        return query(text, *args, **params)

    monkeypatch.setattr(neo4j_store, "_query", link_first)
    with pytest.raises(KgrecError, match="clear\\(\\) stopped: another client linked"):
        neo4j_store.clear()
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (:Customer {id: 'c1'})-[r:LIKES]->(i:KgrecItem) RETURN i.id AS id"
    )
    assert [r["id"] for r in records] == ["dune"]
    neo4j_store.clear(detach_foreign=True)
    assert dump(neo4j_driver) == foreign
