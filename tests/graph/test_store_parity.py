"""The embedded store and Neo4j give the same answers on the same data."""

from __future__ import annotations

import pytest

from kgrec import NodeLabel
from tests.graph.graphs import random_graph

pytestmark = pytest.mark.neo4j


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_snapshot_neighbours_and_paths(both_stores, seed):
    memory, neo4j = both_stores
    for store in both_stores:
        random_graph(store, seed)

    assert memory.stats() == neo4j.stats()
    snap = memory.snapshot()
    assert snap.equals(neo4j.snapshot())

    for label in NodeLabel:
        for node_id in snap.node_ids[label.key]:
            assert memory.neighbours(label, node_id) == neo4j.neighbours(label, node_id), node_id

    items = snap.node_ids["item"]
    total = 0
    for user in snap.node_ids["user"]:
        for splits in (["train"], ["train", "valid", "test"]):
            want = memory.paths(user, items, splits=splits, limit=1000)
            assert want == neo4j.paths(user, items, splits=splits, limit=1000), user
            total += sum(len(p) for p in want.values())
        cut = memory.paths(user, items, limit=3)
        assert cut == neo4j.paths(user, items, limit=3)
        via = {i: items[k % 7 :: 3] for k, i in enumerate(items)}
        assert memory.paths(user, items, via=via) == neo4j.paths(user, items, via=via)
        peers = snap.node_ids["user"][::-2]
        for first_steps, relations in ((None, None), (via, ["director", "sequel_of"])):
            kwargs = dict(via=first_steps, peers=peers, relations=relations, limit=1000)
            want = memory.paths(user, items, **kwargs)
            assert want == neo4j.paths(user, items, **kwargs)
            total += sum(len(p) for p in want.values())
    assert total > 100  # the graphs are dense enough for paths of every length
