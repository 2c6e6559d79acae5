"""Planted-structure data: users and items in clusters, users like their cluster's items."""

from __future__ import annotations

import random

import pytest

from kgrec import MemoryGraphStore

NUM_CLUSTERS = 4
USERS_PER_CLUSTER = 15
ITEMS_PER_CLUSTER = 12


@pytest.fixture(scope="session")
def planted_store():
    """Each user interacts with 8 random items of its cluster (a 70/10/20 train/valid/test
    split per user) and with one popular off-cluster item; items carry their cluster as a
    ``has_genre`` entity and in their text."""
    rng = random.Random(0)
    store = MemoryGraphStore()
    items = {c: [f"i{c}_{k}" for k in range(ITEMS_PER_CLUSTER)] for c in range(NUM_CLUSTERS)}
    store.upsert_nodes("entity", [{"id": f"g{c}", "name": f"genre {c}"} for c in range(NUM_CLUSTERS)])
    store.upsert_nodes(
        "item", [{"id": i, "text": f"a film of genre {c}"} for c, ids in items.items() for i in ids]
    )
    store.upsert_triples(
        [{"head": i, "relation": "has_genre", "tail": f"g{c}", "head_label": "item"}
         for c, ids in items.items() for i in ids]
    )
    rows = []
    for c in range(NUM_CLUSTERS):
        for u in range(USERS_PER_CLUSTER):
            user = f"u{c}_{u}"
            store.upsert_nodes("user", [{"id": user}])
            liked = rng.sample(items[c], 8) + [items[(c + 1) % NUM_CLUSTERS][0]]
            rng.shuffle(liked)
            splits = ["test"] * 2 + ["valid"] + ["train"] * (len(liked) - 3)
            rows += [{"user": user, "item": i, "split": s} for i, s in zip(liked, splits)]
    store.upsert_interactions(rows)
    return store


@pytest.fixture(scope="session")
def planted_snapshot(planted_store):
    """The snapshot of :func:`planted_store` (which tests must not change)."""
    return planted_store.snapshot()
