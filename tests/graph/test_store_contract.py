"""The GraphStore contract: one test body, run on the embedded store and on Neo4j."""

from __future__ import annotations

import numpy as np
import pytest

from kgrec import (
    Interaction,
    InvalidNameError,
    InvalidValueError,
    KgrecError,
    NodeLabel,
    NodeRecord,
    Triple,
    UnknownIdError,
)
from tests.graph.graphs import check_support, random_graph, toy_graph


def path_ids(path):
    return [n.id for n in path.nodes]


def test_upsert_and_stats(store):
    toy_graph(store)
    stats = store.stats()
    assert stats.nodes == {"User": 2, "Item": 4, "Entity": 2}
    assert stats.relationships == {"INTERACTED": 4, "director": 2, "has_genre": 3}


def test_reloading_changes_nothing(store):
    toy_graph(store)
    before = store.snapshot()
    toy_graph(store)
    assert store.stats().relationships["INTERACTED"] == 4
    assert store.snapshot().equals(before)


def test_upsert_updates_in_place(store):
    toy_graph(store)
    store.upsert_nodes("Item", [NodeRecord("alien", text="Alien, director's cut", properties={"year": 2003})])
    store.upsert_interactions([Interaction("bob", "alien", rating=1.0, split="valid")])
    [alien] = store.get_nodes("Item", ["alien"])
    assert alien.text == "Alien, director's cut"
    assert alien.name == "Alien (1979)"  # None leaves the stored name alone
    assert alien.properties == {"year": 2003}
    snap = store.snapshot()
    row = (snap.interactions.user == snap.index_of("user", ["bob"])) & (
        snap.interactions.item == snap.index_of("item", ["alien"])
    )
    assert snap.interactions.rating[row].tolist() == [1.0]
    assert snap.interactions.split[row].tolist() == [1]
    assert store.stats().relationships["INTERACTED"] == 4


def test_snapshot_layout(store):
    toy_graph(store)
    snap = store.snapshot()
    assert snap.node_ids["item"] == ["alien", "blade", "brazil", "dune"]
    assert snap.node_name["entity"] == ["Ridley Scott", "SciFi"]
    assert snap.interactions.edge_index(["train"]).shape == (2, 3)
    assert snap.interactions.edge_index(["test"]).tolist() == [[0], [2]]
    director = snap.triples[("item", "director", "entity")]
    assert director.tolist() == [[0, 1], [0, 0]]
    data = snap.to_hetero_data()
    assert data["item", "rev_has_genre", "entity"] is not None
    assert data["user", "INTERACTED", "item"].edge_index.shape == (2, 3)
    assert data["entity"].num_nodes == 2


def test_neighbours(store):
    toy_graph(store)
    found = [(n.relation, n.outgoing, n.node.id) for n in store.neighbours("Item", "alien")]
    assert found == [
        ("INTERACTED", False, "alice"),
        ("INTERACTED", False, "bob"),
        ("director", True, "ridley"),
        ("has_genre", True, "scifi"),
    ]
    only = store.neighbours("Entity", "ridley", relation="director")
    assert [(n.node.id, n.node.name, n.outgoing) for n in only] == [
        ("alien", "Alien (1979)", False),
        ("blade", "Blade Runner (1982)", False),
    ]


def test_paths(store):
    toy_graph(store)
    paths = store.paths("alice", ["blade", "dune", "brazil"])
    blade = paths["blade"]
    # Canonical order: shorter first, then by (label, id) of each node: Entity < User.
    assert [path_ids(p) for p in blade] == [
        ["alice", "alien", "ridley", "blade"],
        ["alice", "alien", "scifi", "blade"],
        ["alice", "alien", "bob", "blade"],
    ]
    assert blade[0].relations == ("INTERACTED", "director", "director")
    assert blade[0].forward == (True, True, False)
    assert blade[0].nodes[2].label is NodeLabel.ENTITY
    assert blade[2].forward == (True, False, True)
    assert [path_ids(p) for p in paths["dune"]] == [["alice", "alien", "scifi", "dune"]]
    # Brazil is alice's *test* item: not a path over train interactions...
    assert paths["brazil"] == []
    # ...unless the test split is asked for.
    direct = store.paths("alice", ["brazil"], splits=["train", "test"])["brazil"]
    assert [path_ids(p) for p in direct] == [["alice", "brazil"]]


def test_paths_limit_and_hops(store):
    toy_graph(store)
    assert len(store.paths("alice", ["blade"], limit=2)["blade"]) == 2
    assert store.paths("alice", ["blade"], max_hops=2)["blade"] == []
    two = store.paths("bob", ["blade"], max_hops=1, splits=["train"])["blade"]
    assert [path_ids(p) for p in two] == [["bob", "blade"]]


def test_paths_via_chosen_first_steps(store):
    toy_graph(store)
    store.upsert_interactions([Interaction("alice", "dune")])
    every = store.paths("alice", ["blade"])["blade"]
    assert {p.nodes[1].id for p in every} == {"alien", "dune"}
    only = store.paths("alice", ["blade"], via={"blade": ["dune"]})["blade"]
    assert only and all(p.nodes[1].id == "dune" for p in only)
    assert only == [p for p in every if p.nodes[1].id == "dune"]
    direct = store.paths("bob", ["blade"], via={}, splits=["train"])["blade"]
    assert [path_ids(p) for p in direct] == [["bob", "blade"]]
    with pytest.raises(UnknownIdError, match="nope"):
        store.paths("alice", ["blade"], via={"blade": ["nope"]})


def test_paths_through_peers(store):
    toy_graph(store)
    store.upsert_nodes("User", [NodeRecord("carol"), NodeRecord("dave")])
    store.upsert_interactions(
        [Interaction(u, i) for u in ("carol", "dave") for i in ("alien", "blade")]
        + [Interaction("dave", "dune")]
    )
    every = store.paths("alice", ["blade", "dune"])
    via_users = [p for p in every["blade"] if p.nodes[2].label is NodeLabel.USER]
    assert {p.nodes[2].id for p in via_users} == {"bob", "carol", "dave"}
    kg = [p for p in every["blade"] if p.nodes[2].label is not NodeLabel.USER]

    # One path per (liked item, item) through the earliest listed peer who played both; the
    # user herself and unlisted users are skipped, KG paths are untouched.
    ranked = store.paths("alice", ["blade", "dune"], peers=["alice", "dave", "carol"])
    assert [p for p in ranked["blade"] if p.nodes[2].label is NodeLabel.USER] == [
        p for p in via_users if p.nodes[2].id == "dave"
    ]
    assert [p for p in ranked["blade"] if p.nodes[2].label is not NodeLabel.USER] == kg
    assert [path_ids(p) for p in ranked["dune"] if p.nodes[2].label is NodeLabel.USER] == [
        ["alice", "alien", "dave", "dune"]
    ]
    # Each stands for all the users who liked Alien and the item, peers or not.
    assert {p.support for p in via_users} == {3}
    assert [p.support for p in ranked["blade"] + ranked["dune"] if p.peer] == [3, 1]
    assert {p.support for p in kg} == {None}
    only_carol = store.paths("alice", ["blade"], peers=["carol", "dave"])["blade"]
    assert [p.nodes[2].id for p in only_carol if p.nodes[2].label is NodeLabel.USER] == ["carol"]
    assert store.paths("alice", ["blade"], peers=[])["blade"] == kg
    with pytest.raises(UnknownIdError, match="nobody"):
        store.paths("alice", ["blade"], peers=["nobody"])
    with pytest.raises(InvalidValueError, match="peers"):
        store.paths("alice", ["blade"], peers="bob")


def test_paths_over_chosen_relations(store):
    toy_graph(store)
    every = store.paths("bob", ["dune"], splits=["train"])["dune"]
    assert {p.relations[1] for p in every} == {"has_genre"}
    assert store.paths("bob", ["dune"], splits=["train"], relations=["has_genre", "director"])["dune"] == every
    assert store.paths("bob", ["dune"], splits=["train"], relations=["director"])["dune"] == []
    blade = store.paths("alice", ["blade"], relations=[])["blade"]
    assert [path_ids(p) for p in blade] == [["alice", "alien", "bob", "blade"]]
    with pytest.raises(InvalidNameError, match="reserved"):
        store.paths("alice", ["blade"], relations=["INTERACTED"])
    with pytest.raises(InvalidNameError):
        store.paths("alice", ["blade"], relations=["x]-() DETACH DELETE n //"])
    with pytest.raises(InvalidValueError, match="relations"):
        store.paths("alice", ["blade"], relations="director")


def test_peer_paths_are_the_best_ranked_co_user_paths(store):
    random_graph(store, seed=3)
    snap = store.snapshot()
    users, items = snap.node_ids["user"], snap.node_ids["item"]
    peers = users[::-1][:7]
    rank = {p: r for r, p in enumerate(peers)}
    checked = 0
    for user in users:
        every = store.paths(user, items, limit=10_000)
        ranked = store.paths(user, items, peers=peers, limit=10_000)
        for item in items:
            best = {}
            for p in every[item]:
                if len(p) == 3 and p.nodes[2].label is NodeLabel.USER and p.nodes[2].id in rank:
                    a = p.nodes[1].id
                    if a not in best or rank[p.nodes[2].id] < rank[best[a].nodes[2].id]:
                        best[a] = p
            others = [p for p in every[item] if len(p) < 3 or p.nodes[2].label is not NodeLabel.USER]
            assert sorted([*others, *best.values()], key=lambda p: p.sort_key()) == ranked[item]
            checked += len(best)
    assert checked > 20


@pytest.mark.parametrize("splits", [["train"], ["train", "valid", "test"]])
def test_a_path_through_a_user_counts_every_user_behind_it(store, splits):
    random_graph(store, seed=3)
    snap = store.snapshot()
    users, items = snap.node_ids["user"], snap.node_ids["item"]
    seen = []
    for user in users:
        seen += check_support(store, user, items, splits)
        seen += check_support(store, user, items, splits, peers=users[::-2])
        seen += check_support(store, user, items, splits, peers=users[:3], via={i: items[:8] for i in items})
    assert len(seen) > 50 and max(seen) > 1


def test_embeddings_round_trip(store):
    toy_graph(store)
    vectors = np.arange(8, dtype=np.float32).reshape(2, 4) / 7
    store.write_embeddings("Item", ["dune", "alien"], vectors)
    np.testing.assert_allclose(store.read_embeddings("Item", ["alien", "dune"]), vectors[::-1])
    with pytest.raises(UnknownIdError, match="blade"):
        store.read_embeddings("Item", ["blade"])
    with pytest.raises(InvalidValueError, match="shape"):
        store.write_embeddings("Item", ["dune"], vectors)
    with pytest.raises(InvalidValueError, match="finite"):
        store.write_embeddings("Item", ["dune"], np.array([[np.nan]]))


def test_vector_index_finds_nearest(store):
    """Neo4j's index is approximate (HNSW, quantized), the embedded one exact."""
    toy_graph(store)
    rng = np.random.default_rng(0)
    ids = ["alien", "blade", "brazil", "dune"]
    vectors = rng.normal(size=(4, 8)).astype(np.float32)
    store.write_embeddings("Item", ids, vectors)
    name = store.create_vector_index("Item", dimensions=8, replace=True)
    assert name == store.create_vector_index("Item", dimensions=8)  # idempotent
    hits = store.query_vector_index("Item", vectors[2], k=2)
    assert hits[0][0] == "brazil"
    # cosine scores are (1 + cos) / 2, from quantized vectors: near 1 for the vector itself
    assert hits[0][1] > max(0.95, hits[1][1])
    with pytest.raises(InvalidValueError):
        store.create_vector_index("Item", dimensions=0)
    with pytest.raises(InvalidValueError):
        store.create_vector_index("Item", dimensions=8, similarity="dot")
    with pytest.raises(InvalidValueError, match="replace=True"):
        store.create_vector_index("Item", dimensions=4)
    store.write_embeddings("Item", ids, vectors[:, :4])
    assert store.create_vector_index("Item", dimensions=4, replace=True) == name
    assert store.query_vector_index("Item", vectors[1, :4], k=1)[0][0] == "blade"
    with pytest.raises(InvalidValueError, match="k must"):
        store.query_vector_index("Item", vectors[0], k=0)
    with pytest.raises(InvalidValueError, match="finite"):
        store.query_vector_index("Item", np.full(8, np.nan), k=1)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda s: s.upsert_interactions([Interaction("carol", "alien")]), "User.*'carol'"),
        (lambda s: s.upsert_interactions([Interaction("alice", "nope")]), "Item.*'nope'"),
        (lambda s: s.upsert_triples([Triple("alien", "director", "nobody", "Item")]), "Entity.*'nobody'"),
        (lambda s: s.paths("alice", ["nope"]), "Item.*'nope'"),
        (lambda s: s.paths("nobody", ["alien"]), "User.*'nobody'"),
        (lambda s: s.neighbours("Entity", "alien"), "Entity.*'alien'"),
        (lambda s: s.get_nodes("User", ["carol"]), "'carol'"),
    ],
)
def test_unknown_ids_are_refused(store, call, match):
    toy_graph(store)
    before = store.snapshot()
    with pytest.raises(UnknownIdError, match=match):
        call(store)
    assert store.snapshot().equals(before)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda s: s.upsert_interactions([Interaction("alice", "alien", weight=float("nan"))]), "finite"),
        (lambda s: s.upsert_interactions([Interaction("alice", "alien", rating="5")]), "number"),
        (lambda s: s.upsert_interactions([Interaction("alice", "alien", timestamp=1.5)]), "int"),
        (lambda s: s.upsert_interactions([Interaction("alice", "alien", split="holdout")]), "split"),
        (lambda s: s.upsert_nodes("Item", [NodeRecord(42)]), "non-empty string"),
        (lambda s: s.upsert_nodes("Item", [NodeRecord("")]), "non-empty string"),
        (lambda s: s.upsert_nodes("Item", [{"id": "x", "colour": "red"}]), "colour"),
        (lambda s: s.upsert_nodes("Item", [NodeRecord("x", properties={"p": {"a": 1}})]), "'p'"),
        (lambda s: s.upsert_nodes("Item", [NodeRecord("x", properties={"p": float("inf")})]), "finite"),
        (lambda s: s.upsert_nodes("Item", ["x"]), "NodeRecord or a mapping"),
        (lambda s: s.upsert_triples([Triple("alice", "knows", "bob", "User", "User")]), "items and entities"),
        (lambda s: s.paths("alice", ["blade"], max_hops=4), "max_hops"),
        (lambda s: s.paths("alice", "blade"), "sequence of item ids"),
        (lambda s: s.paths("alice", ["blade"], limit=0), "limit"),
        (lambda s: s.upsert_nodes("Item", [NodeRecord("x")], batch_size=0), "batch_size"),
    ],
)
def test_bad_values_are_refused(store, call, match):
    toy_graph(store)
    before = store.snapshot()
    with pytest.raises(InvalidValueError, match=match):
        call(store)
    assert store.snapshot().equals(before)


def test_a_half_finished_load_is_consistent_and_rerun_completes_it(store, monkeypatch):
    toy_graph(store)
    triples = [Triple("dune", f"r{k}", "scifi", "Item") for k in range(10)]
    real_write = store._write_triples
    calls = []

    def flaky(batch):
        calls.append(len(batch))
        if len(calls) == 3:
            raise ConnectionError("connection lost in the middle of a load")
        real_write(batch)

    monkeypatch.setattr(store, "_write_triples", flaky)
    with pytest.raises(ConnectionError):
        store.upsert_triples(triples, batch_size=3)
    rels = store.stats().relationships
    assert sum(v for k, v in rels.items() if k.startswith("r")) == 6  # two whole batches
    monkeypatch.undo()
    store.upsert_triples(triples, batch_size=3)
    store.upsert_triples(triples, batch_size=4)
    rels = store.stats().relationships
    assert {k: v for k, v in rels.items() if k.startswith("r")} == {f"r{k}": 1 for k in range(10)}


def test_clear(store):
    toy_graph(store)
    store.clear()
    assert store.stats().nodes == {"User": 0, "Item": 0, "Entity": 0}
    assert store.stats().relationships == {}


def test_vector_search_without_an_index_or_of_the_wrong_size(store):
    """Both stores raise kgrec's errors, not the server's ClientError."""
    toy_graph(store)
    with pytest.raises(KgrecError, match="no vector index named 'entity_embedding': call create_vector_index"):
        store.query_vector_index("Entity", np.ones(4), k=1)
    store.write_embeddings("Item", ["alien"], np.ones((1, 8)))
    store.create_vector_index("Item", dimensions=8, replace=True)
    with pytest.raises(InvalidValueError, match="'item_embedding' holds 8-d vectors, got 4"):
        store.query_vector_index("Item", np.ones(4), k=1)
