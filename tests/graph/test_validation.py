"""Values are validated once, identically for both stores, before the first write: what one
store accepts the other stores and returns the same; what either would refuse is refused by
both with the field named, and leaves the store as it was."""

from __future__ import annotations

import re

import pytest

from kgrec import Interaction, InvalidValueError, NodeLabel, NodeRecord, Triple
from kgrec.graph.records import MAX_ID_BYTES, MAX_NAME_BYTES
from kgrec.graph.snapshot import id_order
from tests.graph.graphs import toy_graph

LONE = "\ud800"  # a lone surrogate: no UTF-8 form


def node(**kw):
    return lambda s: s.upsert_nodes("Item", [NodeRecord(**{"id": "x", **kw})])


def interaction(**kw):
    return lambda s: s.upsert_interactions([Interaction(**{"user": "alice", "item": "alien", **kw})])


@pytest.mark.parametrize(
    "call, match",
    [
        (interaction(timestamp=2**63), r"timestamp of \('alice', 'alien'\) must fit in a signed 64-bit.*9223372036854775808"),
        (interaction(timestamp=-(2**63) - 1), r"timestamp of .* signed 64-bit"),
        (interaction(weight=1e39), r"weight of \('alice', 'alien'\) must be finite in float32"),
        (interaction(rating=-1e39), r"rating of .* float32"),
        (interaction(user="alice" + LONE), r"interaction user id is not valid Unicode.*position 5"),
        (interaction(item="i" * (MAX_ID_BYTES + 1)), r"interaction item id is 4,097 UTF-8 bytes.*4,096.*\(4,097 characters\)"),
        (node(id=LONE), r"node id is not valid Unicode"),
        (node(id="€" * 1366), r"node id is 4,098 UTF-8 bytes"),  # 1,366 characters, 3 bytes each
        (node(text="ok" + LONE), r"text of node 'x' is not valid Unicode"),
        (node(name=LONE), r"name of node 'x' is not valid Unicode"),
        (node(name="n" * (MAX_NAME_BYTES + 1)), r"name of node 'x' is 16,385 UTF-8 bytes"),
        (node(properties={"p": LONE}), r"property 'p' of node 'x' is not valid Unicode"),
        (node(properties={"p": ["a", LONE]}), r"property 'p' of node 'x' is not valid Unicode"),
        (node(properties={"p": 2**63}), r"property 'p' of node 'x' must fit in a signed 64-bit"),
        (node(properties={"p": [1, -(2**64)]}), r"property 'p' .* signed 64-bit"),
        (node(properties={"p": [1, 2.5]}), r"property 'p' of node 'x' mixes float, int"),
        (node(properties={"p": [True, 1]}), r"property 'p' of node 'x' mixes bool, int"),
        (node(properties={"p": ["a", 1]}), r"property 'p' of node 'x' mixes int, str"),
        (node(properties={"p": [[1], [2]]}), r"property 'p' of node 'x' must be a flat list"),
        (node(properties={"p": [None]}), r"property 'p' of node 'x' must be a string, number"),
        (node(properties={"p": None}), r"property 'p' of node 'x' must be a string, number"),
        (node(properties={"p": float("nan")}), r"property 'p' of node 'x' must be finite"),
        (lambda s: s.upsert_triples([Triple("alien", "director", "r" + LONE, "Item")]), r"triple tail id is not valid Unicode"),
        (lambda s: s.upsert_triples([Triple("h" * 5000, "director", "ridley", "Item")]), r"triple head id is 5,000 UTF-8 bytes"),
    ],
)
def test_values_either_store_would_refuse_are_refused_by_both(store, call, match):
    toy_graph(store)
    before, stats = store.snapshot(), store.stats()
    with pytest.raises(InvalidValueError, match=match) as caught:
        call(store)
    assert len(str(caught.value)) < 300  # a long value is quoted cut, not whole
    assert store.stats() == stats
    assert store.snapshot().equals(before)


def test_a_bad_row_in_the_middle_of_a_batch_writes_nothing(store):
    toy_graph(store)
    store.upsert_nodes("Item", [NodeRecord(f"m{k}") for k in range(11)])
    before, stats = store.snapshot(), store.stats()
    rows = [Interaction("bob", f"m{k}", timestamp=k) for k in range(11)]
    rows[5] = Interaction("bob", "m5", timestamp=2**63)
    with pytest.raises(InvalidValueError, match="timestamp of \\('bob', 'm5'\\)"):
        store.upsert_interactions(rows, batch_size=3)
    nodes = [NodeRecord(f"n{k}", name=f"N{k}") for k in range(11)]
    nodes[5] = NodeRecord("n5", name="N" + LONE)
    with pytest.raises(InvalidValueError, match="name of node 'n5'"):
        store.upsert_nodes("Entity", nodes, batch_size=3)
    assert store.stats() == stats
    assert store.snapshot().equals(before)


def test_the_largest_accepted_values_round_trip_on_both_stores(store):
    """The bounds are inside what Neo4j stores and indexes: values at the bounds load and come
    back unchanged."""
    long_id = "€" * (MAX_ID_BYTES // 3) + "i"  # 4,096 UTF-8 bytes
    long_name = "ñ" * (MAX_NAME_BYTES // 2)  # 16,384 UTF-8 bytes
    props = {"big": 2**63 - 1, "small": -(2**63), "floats": [1.0, 2.5], "flags": [True, False],
             "empty": [], "nul": "a\x00b", "astral": "\U0001f600"}
    store.upsert_nodes("User", [NodeRecord("u")])
    store.upsert_nodes("Item", [NodeRecord(long_id, "t\U0001f600", long_name, props)])
    store.upsert_interactions([Interaction("u", long_id, rating=3.0e38, timestamp=2**63 - 1)])
    [got] = store.get_nodes("Item", [long_id])
    assert (got.id, got.text, got.name, got.properties) == (long_id, "t\U0001f600", long_name, props)
    snap = store.snapshot()
    assert snap.node_ids["item"] == [long_id]
    assert snap.interactions.timestamp.tolist() == [2**63 - 1]


UNICODE_DIGIT_IDS = ["12", "²", "١٢", "012", "2", "a", "10"]


def test_unicode_digit_ids_load_and_snapshot(store):
    store.upsert_nodes("User", [NodeRecord(i) for i in UNICODE_DIGIT_IDS])
    store.upsert_nodes("Item", [NodeRecord(i) for i in reversed(UNICODE_DIGIT_IDS)])
    store.upsert_interactions([Interaction(i, i) for i in UNICODE_DIGIT_IDS])
    store.upsert_triples([Triple("²", "related", "١٢", NodeLabel.ITEM, NodeLabel.ITEM)])
    snap = store.snapshot()
    expected = ["2", "10", "012", "12", "a", "²", "١٢"]
    assert snap.node_ids["user"] == snap.node_ids["item"] == expected
    assert snap.interactions.edge_index().tolist() == [list(range(7)), list(range(7))]
    assert snap.triples[("item", "related", "item")].tolist() == [[5], [6]]


@pytest.mark.neo4j
def test_both_stores_snapshot_unicode_digit_ids_alike(both_stores):
    memory, neo4j = both_stores
    for s in both_stores:
        s.upsert_nodes("Item", [NodeRecord(i) for i in UNICODE_DIGIT_IDS])
    assert memory.snapshot().equals(neo4j.snapshot())
    assert memory.snapshot().fingerprint() == neo4j.snapshot().fingerprint()


def test_id_order_is_total_numeric_for_ascii_digits_only():
    ids = ["12", "١٢", "012", "²", "0", "00", "9" * 5000, "10", "x", "1" + "0" * 4400]
    keys = [id_order(i) for i in ids]
    assert len(set(keys)) == len(ids)  # distinct ids, distinct keys ("12" vs "١٢", "12" vs "012")
    order = sorted(ids, key=id_order)
    assert order == ["0", "00", "10", "012", "12", "1" + "0" * 4400, "9" * 5000, "x", "²", "١٢"]
    assert all(re.fullmatch(r"[0-9]+", i) for i in order[:7])
