"""Neo4j-only behaviour: vector index, restarts between loads, constraint enforcement."""

from __future__ import annotations

import pytest

from kgrec import MemoryGraphStore, Neo4jGraphStore, NodeRecord
from tests.conftest import neo4j_unavailable
from tests.graph.graphs import random_graph, toy_graph

pytestmark = pytest.mark.neo4j


def test_constraint_keeps_ids_unique(neo4j_store, neo4j_driver):
    neo4j_store.upsert_nodes("Item", [NodeRecord("x"), NodeRecord("x", text="later wins")])
    records, _, _ = neo4j_driver.execute_query("MATCH (n:KgrecItem {id: 'x'}) RETURN n.text AS t")
    assert [r["t"] for r in records] == ["later wins"]
    with pytest.raises(Exception, match="already exists"):
        neo4j_driver.execute_query("CREATE (:KgrecItem {id: 'x'})")


def test_server_restart_between_two_loads(neo4j_server, neo4j_store):
    uri, restart = neo4j_server
    if restart is None:
        neo4j_unavailable("NEO4J_URI names an external server, which this test cannot restart")
    first, both = MemoryGraphStore(), MemoryGraphStore()
    random_graph(first, seed=7)
    random_graph(both, seed=7)
    toy_graph(both)

    random_graph(neo4j_store, seed=7)
    restart()
    # A new connection after the restart: the first load survived it, the second completes.
    with Neo4jGraphStore.connect(uri) as again:
        assert again.snapshot().equals(first.snapshot())
        toy_graph(again)
        random_graph(again, seed=7)  # re-running the first load changes nothing
        assert again.snapshot().equals(both.snapshot())
