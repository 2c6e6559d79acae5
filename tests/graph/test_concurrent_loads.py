"""Two processes loading the same rows at the same time write each relationship once (defect 3
of issue #9): relationships are MERGEd between bound nodes, which locks both nodes."""

from __future__ import annotations

import multiprocessing
import os
import random
import traceback

import pytest

from kgrec import Interaction, MemoryGraphStore, Neo4jGraphStore, NodeRecord, Triple

pytestmark = pytest.mark.neo4j

USERS, ITEMS, ENTITIES = 40, 120, 30


def rows(seed: int) -> tuple[list[Interaction], list[Triple]]:
    rng = random.Random(seed)
    interactions = [
        Interaction(f"u{u}", f"i{i}", rating=float(rng.randint(1, 5)), split=rng.choice(["train", "test"]))
        for u in range(USERS)
        for i in rng.sample(range(ITEMS), 30)
    ]
    triples = [
        Triple(f"i{rng.randrange(ITEMS)}", rng.choice(["director", "starring"]), f"e{rng.randrange(ENTITIES)}", "Item")
        for _ in range(900)
    ] + [Triple(f"i{rng.randrange(ITEMS)}", "sequel_of", f"i{rng.randrange(ITEMS)}", "Item", "Item") for _ in range(200)]
    return interactions, triples


def nodes(store) -> None:
    store.upsert_nodes("User", [NodeRecord(f"u{k}") for k in range(USERS)])
    store.upsert_nodes("Item", [NodeRecord(f"i{k}") for k in range(ITEMS)])
    store.upsert_nodes("Entity", [NodeRecord(f"e{k}") for k in range(ENTITIES)])


def load(uri, auth, interactions, triples, batch_size, start, errors) -> None:
    """One writer process: wait for the other, then load every row."""
    try:
        with Neo4jGraphStore.connect(uri, auth=auth, apply_schema=False) as store:
            start.wait(timeout=120)
            store.upsert_interactions(interactions, batch_size=batch_size)
            store.upsert_triples(triples, batch_size=batch_size)
    except BaseException:
        errors.put(traceback.format_exc())
        raise


@pytest.mark.parametrize("seed, batch_sizes", [(0, (1000, 1000)), (1, (300, 700)), (2, (5000, 250))])
def test_two_concurrent_loads_write_each_relationship_once(neo4j_server, neo4j_store, seed, batch_sizes):
    uri, _ = neo4j_server
    auth = None
    if os.environ.get("NEO4J_PASSWORD"):
        auth = (os.environ.get("NEO4J_USER", "neo4j"), os.environ["NEO4J_PASSWORD"])
    interactions, triples = rows(seed)
    expected = MemoryGraphStore()
    for store in (expected, neo4j_store):
        nodes(store)
    expected.upsert_interactions(interactions)
    expected.upsert_triples(triples)

    context = multiprocessing.get_context("fork")  # the children only need what is loaded here
    start, errors = context.Barrier(2), context.Queue()
    # Overlapping batches: the second writer goes through the rows in reverse order.
    orders = [(interactions, triples), (interactions[::-1], triples[::-1])]
    writers = [
        context.Process(target=load, args=(uri, auth, i, t, size, start, errors))
        for (i, t), size in zip(orders, batch_sizes)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=300)
    failures = [errors.get() for _ in range(errors.qsize())]
    assert [w.exitcode for w in writers] == [0, 0], "\n".join(failures)

    assert neo4j_store.stats() == expected.stats()
    assert neo4j_store.snapshot().equals(expected.snapshot())
