"""The embedded store's memory per interaction (issue #14): one id string per node, shared by
everything that names the node, and no per-edge objects."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np

from kgrec import Interaction, MemoryGraphStore, NodeRecord, Triple

#: A stored interaction needs its record (96 B: eight slots), its timestamp (a 32 B int), an
#: entry in its user's dict (~40 B with the dict's slack) and a list slot at each end (16 B):
#: about 190 B. The budget leaves room for dict growth; a store holding a pair tuple, edge
#: tuples or its own copy of each id string per interaction is above 500 B.
BYTES_PER_INTERACTION = 300


def _fresh(text: str) -> str:
    """An equal string that is a new object, as a file reader makes one per row."""
    return "".join(list(text))


def test_stored_records_share_the_node_id_strings():
    store = MemoryGraphStore()
    store.upsert_nodes("User", [NodeRecord("u1")])
    store.upsert_nodes("Item", [NodeRecord("i1"), NodeRecord("i2")])
    store.upsert_nodes("Entity", [NodeRecord("e1")])
    written = Interaction(_fresh("u1"), _fresh("i1"), 4, 0.5, 123, _fresh("valid"), "rating", "app")
    store.upsert_interactions([written])
    store.upsert_triples([Triple(_fresh("i2"), "genre", _fresh("e1"), "Item", "Entity")])
    user = store.get_nodes("User", ["u1"])[0]
    item, other = store.get_nodes("Item", ["i1", "i2"])
    entity = store.get_nodes("Entity", ["e1"])[0]

    stored = store.user_interactions(["u1"])["u1"][0]
    assert stored == written and type(stored.rating) is int  # the same record, value for value
    assert stored.user is user.id and stored.item is item.id
    assert [n.node.id for n in store.neighbours("Item", "i1")] == ["u1"]
    assert store.neighbours("Item", "i1")[0].node.id is user.id
    assert store.neighbours("Entity", "e1")[0].node.id is other.id
    assert store.neighbours("Item", "i2")[0].node.id is entity.id


def test_bytes_per_interaction_stay_within_budget():
    rng = np.random.default_rng(0)
    users, items, n = 1_000, 400, 20_000
    codes = rng.choice(users * items, n, replace=False).tolist()
    store = MemoryGraphStore()
    store.upsert_nodes("User", [NodeRecord(f"u{k}") for k in range(users)])
    store.upsert_nodes("Item", [NodeRecord(f"i{k}") for k in range(items)])
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        store.upsert_interactions(
            Interaction(f"u{c // items}", f"i{c % items}", None, 1.0, 10**9 + k, "train")
            for k, c in enumerate(codes)
        )
        gc.collect()
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert store.stats().relationships == {"INTERACTED": n}
    assert used / n < BYTES_PER_INTERACTION, f"{used / n:.0f} bytes per interaction"
