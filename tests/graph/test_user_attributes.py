"""User attributes as graph entities: ``(user)-[has_occupation]->(entity)`` triples, written,
read back and cleared by both stores, and the attribute paths
``user -[attr]-> entity <-[attr]- peer -> item`` that explain items to users without
interactions."""

from __future__ import annotations

import random

import pytest
import rdflib
import torch

from kgrec import (
    Interaction,
    InvalidNameError,
    InvalidValueError,
    MemoryGraphStore,
    NodeLabel,
    NodeRecord,
    Triple,
)
from kgrec.graph.schema import schema_turtle
from kgrec.models import KGRecModel, training_graph
from kgrec.train import TrainConfig, Trainer, load_checkpoint, save_checkpoint
from tests.graph.graphs import check_support, random_graph, toy_graph

OCCUPATION, AGE = "has_occupation", "in_age_group"
KGREC = rdflib.Namespace("https://kgrec.dev/schema#")


def path_ids(path):
    return [n.id for n in path.nodes]


def with_attributes(store) -> None:
    """:func:`toy_graph` plus carol (no interactions) and dave (Alien, Dune); alice, carol
    and dave are writers, bob an engineer; alice and carol are 25-34, dave 35-44."""
    toy_graph(store)
    store.upsert_nodes("User", [NodeRecord("carol"), NodeRecord("dave")])
    store.upsert_interactions([Interaction("dave", "alien"), Interaction("dave", "dune")])
    store.upsert_nodes(
        "Entity",
        [
            NodeRecord("occupation:writer", "occupation: writer", "writer"),
            NodeRecord("occupation:engineer", "occupation: engineer", "engineer"),
            NodeRecord("age:25-34", "age group: 25-34", "25-34"),
            NodeRecord("age:35-44", "age group: 35-44", "35-44"),
        ],
    )
    store.upsert_triples(
        [
            Triple(user, OCCUPATION, f"occupation:{job}", NodeLabel.USER)
            for user, job in [("alice", "writer"), ("bob", "engineer"), ("carol", "writer"), ("dave", "writer")]
        ]
        + [
            Triple(user, AGE, f"age:{group}", NodeLabel.USER)
            for user, group in [("alice", "25-34"), ("carol", "25-34"), ("dave", "35-44")]
        ]
    )


def attribute_graph(store, seed: int) -> None:
    """:func:`random_graph` plus three attribute relations over a few entities, two users
    without train interactions, and one attribute entity also linked from items."""
    rng = random.Random(seed)
    random_graph(store, seed)
    users = [f"u{k}" for k in range(12)] + ["cold0", "cold1"]
    store.upsert_nodes("User", [NodeRecord("cold0"), NodeRecord("cold1")])
    store.upsert_interactions([Interaction("cold0", "3", split="test")])
    store.upsert_nodes("Entity", [NodeRecord(f"a{k}", name=f"Attribute {k}") for k in range(5)])
    triples = [Triple(u, OCCUPATION, f"a{rng.randrange(3)}", "User") for u in users]
    triples += [Triple(u, AGE, f"a{rng.randrange(3, 5)}", "User") for u in users]
    # a relation shared by users and items: users' favourite genre
    triples += [Triple(u, "has_genre", f"e{rng.randrange(8)}", "User") for u in users[::2]]
    triples += [Triple(str(k), "has_genre", "a0", "Item") for k in range(3)]
    store.upsert_triples(triples)


# -- records and storage -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("triple", "match"),
    [
        (Triple("alice", "knows", "bob", "User", "User"), "cannot end at a user"),
        (Triple("alien", "seen_by", "alice", "Item", "User"), "cannot end at a user"),
        (Triple("alice", "likes", "alien", "User", "Item"), "must end at an entity"),
    ],
)
def test_user_triples_other_than_attributes_are_refused(store, triple, match):
    toy_graph(store)
    before = store.snapshot()
    with pytest.raises(InvalidValueError, match=match) as caught:
        store.upsert_triples([triple])
    assert repr(triple.head) in str(caught.value)  # the message names the edge
    assert store.snapshot().equals(before)


def test_attributes_are_written_read_back_and_cleared(store):
    with_attributes(store)
    with_attributes(store)  # idempotent
    assert store.stats().relationships == {
        "INTERACTED": 6,
        "director": 2,
        "has_genre": 3,
        "has_occupation": 4,
        "in_age_group": 3,
    }
    writer = store.neighbours("entity", "occupation:writer")
    assert [(n.relation, n.outgoing, n.node.id) for n in writer] == [
        (OCCUPATION, False, "alice"),
        (OCCUPATION, False, "carol"),
        (OCCUPATION, False, "dave"),
    ]
    carol = store.neighbours("user", "carol")
    assert [(n.relation, n.outgoing, n.node.label, n.node.name) for n in carol] == [
        (OCCUPATION, True, NodeLabel.ENTITY, "writer"),
        (AGE, True, NodeLabel.ENTITY, "25-34"),
    ]
    snap = store.snapshot()
    assert snap.relations == ["director", "has_genre"]
    assert snap.attribute_relations == [OCCUPATION, AGE]
    users, entities = snap.node_ids["user"], snap.node_ids["entity"]
    edges = snap.triples[("user", OCCUPATION, "entity")].t().tolist()
    assert sorted((users[u], entities[e]) for u, e in edges) == [
        ("alice", "occupation:writer"),
        ("bob", "occupation:engineer"),
        ("carol", "occupation:writer"),
        ("dave", "occupation:writer"),
    ]
    assert "edges user-in_age_group->entity" in snap.fingerprints()
    data = snap.to_hetero_data()
    assert data["entity", "rev_has_occupation", "user"].edge_index.size(1) == 4
    store.clear()
    assert store.stats().relationships == {}
    assert store.snapshot().triples == {}


@pytest.mark.neo4j
def test_both_stores_hold_and_answer_alike(both_stores):
    memory, neo4j = both_stores
    for store in both_stores:
        attribute_graph(store, seed=0)
    assert memory.stats() == neo4j.stats()
    snap = memory.snapshot()
    assert snap.equals(neo4j.snapshot())
    assert snap.fingerprints() == neo4j.snapshot().fingerprints()
    for entity in [f"a{k}" for k in range(5)] + ["e0"]:
        assert memory.neighbours("entity", entity) == neo4j.neighbours("entity", entity)
    users, items = snap.node_ids["user"], snap.node_ids["item"]
    peers = users[::-3]
    attributes = [OCCUPATION, AGE, "has_genre"]
    total = 0
    for user in users:
        for kwargs in (
            dict(attributes=attributes, splits=["train", "test"], limit=1000),
            dict(attributes=[AGE], peers=peers, limit=1000),
            dict(attributes=attributes, peers=peers, relations=["director"], via={}, limit=1000),
            dict(attributes=attributes, limit=4),
        ):
            want = memory.paths(user, items, **kwargs)
            assert want == neo4j.paths(user, items, **kwargs), (user, kwargs)
            total += sum(p.starts_with_attribute for paths in want.values() for p in paths)
    assert total > 100


# -- attribute paths -------------------------------------------------------------------------
def test_an_attribute_path_counts_every_user_behind_it(store):
    attribute_graph(store, seed=4)
    snap = store.snapshot()
    users, items = snap.node_ids["user"], snap.node_ids["item"]
    seen = []
    for user in users:
        for splits in (["train"], ["train", "test"]):
            kwargs = dict(attributes=[OCCUPATION, AGE, "has_genre"], relations=[])
            seen += check_support(store, user, items, splits, **kwargs)
            seen += check_support(store, user, items, splits, peers=users[::-3], **kwargs)
    assert len(seen) > 100 and max(seen) > 2


def test_attribute_paths_reach_a_user_without_interactions(store):
    with_attributes(store)
    assert store.paths("carol", ["alien", "blade", "dune"]) == {"alien": [], "blade": [], "dune": []}
    paths = store.paths("carol", ["alien", "blade", "dune"], attributes=[OCCUPATION, AGE])
    assert [path_ids(p) for p in paths["alien"]] == [
        ["carol", "age:25-34", "alice", "alien"],
        ["carol", "occupation:writer", "alice", "alien"],
        ["carol", "occupation:writer", "dave", "alien"],
    ]
    # alice and dave, the writers who liked Alien, stand behind each writer path
    assert [p.support for p in paths["alien"]] == [1, 2, 2]
    first = paths["alien"][0]
    assert first.relations == (AGE, AGE, "INTERACTED")
    assert first.forward == (True, False, True)
    assert first.starts_with_attribute and first.nodes[1].name == "25-34"
    assert [path_ids(p) for p in paths["dune"]] == [["carol", "occupation:writer", "dave", "dune"]]
    assert paths["blade"] == []  # bob, the engineer who liked it, shares nothing with carol
    only_age = store.paths("carol", ["alien"], attributes=[AGE])["alien"]
    assert [path_ids(p) for p in only_age] == [["carol", "age:25-34", "alice", "alien"]]
    # other splits; max_hops and an empty list leave them out
    held_out = store.paths("bob", ["brazil"], attributes=[AGE, OCCUPATION], splits=["test"])
    assert held_out == {"brazil": []}
    with_test = store.paths("carol", ["brazil"], attributes=[AGE], splits=["train", "test"])
    assert [path_ids(p) for p in with_test["brazil"]] == [["carol", "age:25-34", "alice", "brazil"]]
    assert store.paths("carol", ["alien"], attributes=[OCCUPATION], max_hops=2) == {"alien": []}
    assert store.paths("carol", ["alien"], attributes=[]) == {"alien": []}


def test_attribute_paths_sort_with_the_others_and_obey_limit_via_and_peers(store):
    with_attributes(store)
    blade = store.paths("alice", ["blade"], attributes=[OCCUPATION])["blade"]
    assert blade == store.paths("alice", ["blade"])["blade"]  # no other writer liked it
    dune = store.paths("alice", ["dune"], attributes=[OCCUPATION])["dune"]
    # Entity < Item: the attribute path sorts before the three-hop paths through Alien
    assert [path_ids(p) for p in dune] == [
        ["alice", "occupation:writer", "dave", "dune"],
        ["alice", "alien", "scifi", "dune"],
        ["alice", "alien", "dave", "dune"],
    ]
    assert store.paths("alice", ["dune"], attributes=[OCCUPATION], limit=2)["dune"] == dune[:2]
    # via restricts the liked-item paths only
    assert store.paths("alice", ["dune"], attributes=[OCCUPATION], via={})["dune"] == dune[:1]
    # peers: one path per first hop and item, through the earliest listed peer
    ranked = store.paths("carol", ["alien"], attributes=[OCCUPATION, AGE], peers=["dave", "alice"])
    assert [path_ids(p) for p in ranked["alien"]] == [
        ["carol", "age:25-34", "alice", "alien"],
        ["carol", "occupation:writer", "dave", "alien"],
    ]
    alice_only = store.paths("carol", ["alien"], attributes=[OCCUPATION], peers=["bob", "alice"])
    assert [path_ids(p) for p in alice_only["alien"]] == [["carol", "occupation:writer", "alice", "alien"]]
    assert store.paths("carol", ["alien"], attributes=[OCCUPATION], peers=[]) == {"alien": []}


def test_bad_attribute_arguments_are_refused(store):
    with_attributes(store)
    with pytest.raises(InvalidValueError, match="attributes must be a collection"):
        store.paths("carol", ["alien"], attributes=OCCUPATION)
    with pytest.raises(InvalidNameError, match="reserved"):
        store.paths("carol", ["alien"], attributes=["INTERACTED"])
    with pytest.raises(InvalidNameError):
        store.paths("carol", ["alien"], attributes=["x]-() DETACH DELETE n //"])


def test_a_relation_shared_by_users_and_items_keeps_them_apart(store):
    """Users' favourite genres use the items' ``has_genre``: they join no user into a
    knowledge-graph path, and an attribute path goes through users only."""
    toy_graph(store)
    before = store.paths("alice", ["blade", "dune"], limit=1000)
    store.upsert_triples(
        [Triple(user, "has_genre", "scifi", NodeLabel.USER) for user in ("alice", "bob")]
    )
    assert store.paths("alice", ["blade", "dune"], limit=1000) == before
    genre = store.paths("alice", ["blade", "dune"], attributes=["has_genre"])
    assert [path_ids(p) for p in genre["blade"] if p.starts_with_attribute] == [
        ["alice", "scifi", "bob", "blade"]
    ]
    assert [p for p in genre["dune"] if p.starts_with_attribute] == []  # no user liked Dune


# -- the model -------------------------------------------------------------------------------
def test_training_and_checkpoints_work_with_user_attributes(tmp_path):
    """The model reads item and entity edges only: user attribute edges change neither its
    inputs nor its training, and a checkpoint records and checks their edge type."""
    store = MemoryGraphStore()
    attribute_graph(store, seed=0)
    snapshot = store.snapshot()
    graph = training_graph(snapshot)
    assert ("user", OCCUPATION, "entity") in graph.edge_types
    torch.manual_seed(0)
    model = KGRecModel(graph, channels=8)
    config = TrainConfig(epochs=2, batch_size=32, num_negatives=2, progress=False)
    Trainer(model, snapshot, config).fit()
    saved = save_checkpoint(model.eval(), tmp_path / "ckpt", graph)
    config_text = (saved / "config.json").read_text()
    assert "edges user-has_occupation->entity" in config_text
    loaded = load_checkpoint(saved, graph)
    users = torch.arange(model.num_users)
    with torch.no_grad():
        assert torch.equal(loaded.eval()(users), model(users))


# -- the schema description ------------------------------------------------------------------
def test_the_turtle_schema_allows_exactly_the_triples_records_accept():
    """``schema.ttl`` lists the (head, tail) labels of knowledge relations and user
    attributes; :meth:`Triple.validated` accepts exactly those pairs."""
    graph = rdflib.Graph().parse(data=schema_turtle(), format="turtle")
    allowed = {
        (str(head), str(tail))
        for cls in graph.subjects(KGREC.headLabel, None)
        for head in graph.objects(cls, KGREC.headLabel)
        for tail in graph.objects(cls, KGREC.tailLabel)
    }
    accepted = set()
    for head in NodeLabel:
        for tail in NodeLabel:
            try:
                Triple("h", "r", "t", head, tail).validated()
            except InvalidValueError:
                continue
            accepted.add((head.value, tail.value))
    assert allowed == accepted == {
        ("Item", "Item"), ("Item", "Entity"), ("Entity", "Item"), ("Entity", "Entity"), ("User", "Entity")
    }
