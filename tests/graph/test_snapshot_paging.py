"""Snapshots that scale: the columnar SnapshotBuilder, and Neo4j's export in keyset pages."""

from __future__ import annotations

import math
import random

import pytest
import torch

from kgrec import Interaction, KgrecError, NodeRecord
from kgrec.errors import InvalidValueError, UnknownIdError
from kgrec.graph import cypher
from kgrec.graph.schema import SPLITS, NodeLabel
from kgrec.graph.snapshot import InteractionTable, NodeColumns, Snapshot, SnapshotBuilder, id_order
from tests.graph.graphs import random_graph

FIELDS = ("user", "item", "rating", "weight", "timestamp", "split")


def same_bits(a: Snapshot, b: Snapshot) -> bool:
    """Equal ids, texts, names, edge types in the same order, and every tensor equal bit for
    bit (dtype, shape and bytes: NaN ratings included)."""
    if (a.node_ids, a.node_text, a.node_name) != (b.node_ids, b.node_text, b.node_name):
        return False
    tensors = [(getattr(a.interactions, f), getattr(b.interactions, f)) for f in FIELDS]
    if list(a.triples) != list(b.triples):
        return False
    tensors += [(a.triples[k], b.triples[k]) for k in a.triples]
    return all(
        x.dtype == y.dtype and x.shape == y.shape and x.numpy().tobytes() == y.numpy().tobytes()
        for x, y in tensors
    )


def test_build_orders_a_hand_example():
    nodes = {
        "user": [("u2", "two", None), ("u10", None, "Ten"), ("u1", "one", "One")],
        "item": [("abc", None, None), ("10", "ten", None), ("2", "two", None)],
        "entity": [("e1", None, "E")],
    }
    interactions = [
        ("u2", "10", None, 1.0, None, "train"),
        ("u1", "abc", 4.5, 0.5, 100, "test"),
        ("u2", "2", 3.0, 1.0, 5, "valid"),
        ("u1", "2", 5.0, 1.0, 7, "train"),
    ]
    triples = [
        ("item", "abc", "genre", "entity", "e1"),
        ("user", "u2", "likes", "entity", "e1"),
        ("item", "2", "genre", "entity", "e1"),
        ("item", "10", "sequel_of", "item", "2"),
        ("item", "10", "genre", "entity", "e1"),
    ]
    snap = Snapshot.build(nodes, interactions, triples)

    # users as strings: u1 < u10 < u2; items: digits by value, then the rest
    assert snap.node_ids["user"] == ["u1", "u10", "u2"] and snap.node_ids["entity"] == ["e1"]
    assert snap.node_ids["item"] == ["2", "10", "abc"]
    assert snap.node_text["user"] == ["one", None, "two"]
    assert snap.node_name["user"] == ["One", "Ten", None]
    assert snap.node_text["item"] == ["two", "ten", None]
    table = snap.interactions
    assert table.user.tolist() == [0, 0, 2, 2] and table.user.dtype == torch.long
    assert table.item.tolist() == [0, 2, 0, 1] and table.item.dtype == torch.long
    assert table.rating[:3].tolist() == [5.0, 4.5, 3.0] and math.isnan(table.rating[3])
    assert table.rating.dtype == torch.float32 and table.weight.tolist() == [1.0, 0.5, 1.0, 1.0]
    assert table.timestamp.tolist() == [7, 100, 5, -1] and table.timestamp.dtype == torch.long
    assert table.split.tolist() == [SPLITS.index(s) for s in ("train", "test", "valid", "train")]
    assert table.split.dtype == torch.uint8
    assert list(snap.triples) == [
        ("item", "genre", "entity"),
        ("item", "sequel_of", "item"),
        ("user", "likes", "entity"),
    ]
    assert snap.triples["item", "genre", "entity"].tolist() == [[0, 1, 2], [0, 0, 0]]
    assert snap.triples["item", "sequel_of", "item"].tolist() == [[1], [0]]
    assert snap.triples["user", "likes", "entity"].tolist() == [[2], [0]]
    assert all(e.is_contiguous() and e.dtype == torch.long for e in snap.triples.values())


def test_empty_graph_has_typed_empty_columns():
    snap = Snapshot.build({}, [], [])
    assert snap.node_ids == {"user": [], "item": [], "entity": []} and snap.triples == {}
    dtypes = [torch.long, torch.long, torch.float32, torch.float32, torch.long, torch.uint8]
    for field, dtype in zip(FIELDS, dtypes):
        column = getattr(snap.interactions, field)
        assert column.shape == (0,) and column.dtype == dtype


def reference_build(nodes, interactions, triples) -> Snapshot:
    """Snapshot.build as it was before the builder: Python rows sorted as tuples."""
    ids = {t: [r[0] for r in sorted(nodes[t], key=lambda r: id_order(r[0]))] for t in nodes}
    rows = {t: {r[0]: r for r in nodes[t]} for t in nodes}
    index = {t: {nid: k for k, nid in enumerate(ids[t])} for t in ids}
    table = sorted((index["user"][u], index["item"][i], *rest) for u, i, *rest in interactions)
    columns = list(zip(*table))
    grouped = {}
    for ht, h, rel, tt, t in triples:
        grouped.setdefault((ht, rel, tt), []).append((index[ht][h], index[tt][t]))
    return Snapshot(
        ids,
        {t: [rows[t][i][1] for i in ids[t]] for t in ids},
        {t: [rows[t][i][2] for i in ids[t]] for t in ids},
        InteractionTable(
            torch.tensor(columns[0], dtype=torch.long),
            torch.tensor(columns[1], dtype=torch.long),
            torch.tensor([math.nan if r is None else r for r in columns[2]], dtype=torch.float32),
            torch.tensor(columns[3], dtype=torch.float32),
            torch.tensor([-1 if t is None else t for t in columns[4]], dtype=torch.long),
            torch.tensor([SPLITS.index(s) for s in columns[5]], dtype=torch.uint8),
        ),
        {
            k: torch.tensor(sorted(v), dtype=torch.long).t().contiguous()
            for k, v in sorted(grouped.items())
        },
    )


def random_rows(seed: int):
    rng = random.Random(seed)
    nodes = {
        "user": [(f"u{k}", f"user {k}", None) for k in rng.sample(range(300), 300)],
        "item": [(str(k), None, f"Item {k}") for k in rng.sample(range(150), 150)]
        + [("x9", None, None)],
        "entity": [(f"e{k}", None, None) for k in range(40)],
    }
    pairs = rng.sample([(u, i) for u in range(300) for i in [*map(str, range(150)), "x9"]], 4000)
    interactions = [
        (
            f"u{u}",
            i,
            rng.choice([None, rng.uniform(0.5, 5.0), float(rng.randint(1, 5))]),
            rng.uniform(0.0, 2.0),
            rng.choice([None, rng.randint(-(2**40), 2**40)]),
            rng.choice(SPLITS),
        )
        for u, i in pairs
    ]
    triples = [
        (ht, h, rng.choice(["genre", "director", "follows"]), tt, t)
        for ht, h, tt, t in (
            rng.choice(
                [
                    ("item", str(rng.randrange(150)), "entity", f"e{rng.randrange(40)}"),
                    ("item", "x9", "item", str(rng.randrange(150))),
                    ("user", f"u{rng.randrange(300)}", "entity", f"e{rng.randrange(40)}"),
                    ("entity", f"e{rng.randrange(40)}", "entity", f"e{rng.randrange(40)}"),
                ]
            )
            for _ in range(1500)
        )
    ]
    return nodes, interactions, triples


@pytest.mark.parametrize("seed", [0, 1])
def test_build_is_bit_identical_to_sorting_rows(seed):
    nodes, interactions, triples = random_rows(seed)
    built = Snapshot.build(nodes, interactions, triples)
    assert same_bits(built, reference_build(nodes, interactions, triples))


def test_builder_in_parts_in_any_order_equals_build():
    nodes, interactions, triples = random_rows(2)
    builder = SnapshotBuilder({t: NodeColumns(*zip(*rows)) for t, rows in reversed(nodes.items())})
    for part in (interactions[3000:], interactions[1000:3000], interactions[:1000]):
        builder.add_interactions(*zip(*part))
    for ht, h, rel, tt, t in reversed(triples):  # one edge per part
        builder.add_triples((ht, rel, tt), [h], [t])
    assert same_bits(builder.snapshot(), Snapshot.build(nodes, interactions, triples))


def test_unknown_ids_are_named():
    one = NodeColumns(["u1"], [None], [None]), NodeColumns(["i1"], [None], [None])
    builder = SnapshotBuilder(dict(zip(("user", "item"), one)))
    with pytest.raises(UnknownIdError, match="unknown item id.*'i2'"):
        builder.add_interactions(
            ["u1", "u1"], ["i1", "i2"], [None, None], [1.0, 1.0], [None, None], ["train", "train"]
        )
    with pytest.raises(UnknownIdError, match="unknown entity id.*'e1'"):
        builder.add_triples(("item", "genre", "entity"), ["i1"], ["e1"])


# -- Neo4j: keyset pages ----------------------------------------------------------------------

def recording(store, monkeypatch) -> list[tuple[dict, int]]:
    """Record the parameters and page size (nodes) of every paged query the store runs."""
    calls = []
    original = store._query

    def query(q, read=False, **params):
        records = original(q, read=read, **params)
        if "page" in params:
            calls.append((params, records[0]["size"]))
        return records

    monkeypatch.setattr(store, "_query", query)
    return calls


@pytest.mark.neo4j
@pytest.mark.parametrize("page_size", [1, 4, 5, 50_000])
def test_paged_export_equals_the_embedded_store(both_stores, monkeypatch, page_size):
    memory, neo4j = both_stores
    for store in both_stores:
        random_graph(store, seed=3)  # 12 users, 20 items, 8 entities: pages of 4 end exactly
        store.upsert_nodes("User", [NodeRecord("zz-idle", "a user without interactions")])
        store.upsert_nodes("Entity", [NodeRecord("0", name="zero")])
    calls = recording(neo4j, monkeypatch)
    assert same_bits(neo4j.snapshot(page_size=page_size), memory.snapshot())

    # the nodes of each label, the users again, each label again: full pages, then the rest
    # (an empty page when a label's count is a multiple of page_size)
    sizes = [13, 20, 9, 13, 13, 20, 9]
    assert [n for _, n in calls] == [
        n for size in sizes for n in [page_size] * (size // page_size) + [size % page_size]
    ]
    assert sum(params["after"] == "" for params, _ in calls) == len(sizes)  # later pages resume


@pytest.mark.neo4j
def test_pages_are_index_seeks_in_id_order(neo4j_store):
    for template in (cypher.SNAPSHOT_NODES, cypher.SNAPSHOT_INTERACTIONS, cypher.SNAPSHOT_TRIPLES):
        query = neo4j_store._render(template, label=NodeLabel.USER)
        summary = neo4j_store.driver.execute_query("EXPLAIN " + query, after="", page=10).summary
        operators = []
        plan = [summary.plan]
        while plan:
            step = plan.pop()
            operators.append(step["operatorType"].split("@")[0])
            plan.extend(step.get("children", []))
        assert any(op.endswith("IndexSeekByRange") for op in operators), operators
        sorts = ("Sort", "Top", "PartialSort", "PartialTop")
        assert not any(op in sorts for op in operators), operators


@pytest.mark.neo4j
def test_a_node_created_during_the_export_fails_it_clearly(neo4j_store, monkeypatch):
    random_graph(neo4j_store, seed=4)
    original = neo4j_store._query

    def query(q, read=False, **params):
        if "INTERACTED" in q and params.get("after") == "":  # the interaction pass starts
            neo4j_store.upsert_nodes("Item", [NodeRecord("late")])
            neo4j_store.upsert_interactions([Interaction("u0", "late")])
        return original(q, read=read, **params)

    monkeypatch.setattr(neo4j_store, "_query", query)
    changed = r"graph changed while the snapshot was read \(unknown item id\(s\): 'late'"
    with pytest.raises(KgrecError, match=changed):
        neo4j_store.snapshot()


@pytest.mark.neo4j
@pytest.mark.parametrize("page_size", [0, -1, 2.5, True])
def test_page_size_must_be_a_positive_int(neo4j_store, page_size):
    with pytest.raises(InvalidValueError, match="page_size must be a positive int"):
        neo4j_store.snapshot(page_size=page_size)


@pytest.mark.neo4j
def test_progress_bar_names_the_passes(neo4j_store, capsys, monkeypatch):
    random_graph(neo4j_store, seed=5)
    nodes = neo4j_store.stats().nodes
    visits = 2 * sum(nodes.values()) + nodes["User"]  # nodes and triples passes, users once more
    monkeypatch.setattr(neo4j_store, "progress_threshold", visits)
    neo4j_store.snapshot(page_size=7)
    err = capsys.readouterr().err
    assert "snapshot: triples" in err and f"{visits}/{visits}" in err
    monkeypatch.setattr(neo4j_store, "progress_threshold", visits + 1)
    neo4j_store.snapshot(page_size=7)
    assert capsys.readouterr().err == ""
