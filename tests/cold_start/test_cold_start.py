"""Cold start through the Recommender: new items and users are written, embedded through the
trained model and served at once; bad requests leave the store as it was."""

from __future__ import annotations

import pytest
import torch

from kgrec import (
    Interaction,
    InvalidNameError,
    InvalidValueError,
    KgrecError,
    NodeLabel,
    Recommender,
    Triple,
    UnknownIdError,
)
from kgrec.cold import grow_snapshot
from kgrec.cold.cold_start import LIKED_ONLY_WEIGHT
from kgrec.graph.records import NodeRecord
from kgrec.models import KGRecModel, MatrixFactorization, training_graph
from kgrec.text import node_text_vectors
from tests.cold_start.conftest import ITEMS, WordEncoder, load_films

SCIFI = set(ITEMS["scifi"])


def serve(store, model) -> Recommender:
    load_films(store)
    return Recommender(model, store, text_encoder=WordEncoder())


def add_two_new_films(rec: Recommender) -> None:
    """``new_s``: sci-fi text, linked to the sci-fi genre and director; ``x_new``: unrelated
    text, no links. ``new_s`` sorts between the dramas and the sci-fi films, so rows shift."""
    rec.add_item("new_s", text="space alien robot future film", name="New SF",
                 properties={"year": 2030}, links=[("has_genre", "scifi"), ("director", "dir_scifi0")])
    rec.add_item("x_new", text="cooking recipes and gardening tips")


def test_new_item_is_stored_ranked_and_explained(store, trained_model):
    rec = serve(store, trained_model)
    add_two_new_films(rec)
    assert rec.snapshot.equals(store.snapshot())  # the served graph is the store's
    [record] = store.get_nodes("Item", ["new_s"])
    assert (record.name, record.properties) == ("New SF", {"year": 2030})
    for user in ("s_u0", "s_u1", "s_u2"):
        ranking = [r.item_id for r in rec.recommend(user, k=30, explain=False)]
        assert ranking.index("new_s") < ranking.index("x_new")
    explanation = rec.explain("s_u0", "new_s")
    through_links = [
        p.path for p in explanation.paths
        if p.path.relations[-1] in ("has_genre", "director") and p.path.nodes[-2].id in ("scifi", "dir_scifi0")
    ]
    assert through_links, [p.path for p in explanation.paths]
    assert all(p.path.nodes[-1].id == "new_s" for p in explanation.paths)


def test_new_item_without_links_leaves_every_other_embedding_unchanged(memory_store):
    """Nothing reaches an unlinked item without users, so growing the graph by it must not move
    any other node: a check that old rows, id embeddings included, move to their new rows."""
    load_films(memory_store)
    snapshot = memory_store.snapshot()
    torch.manual_seed(0)
    model = KGRecModel(training_graph(snapshot, node_text_vectors(snapshot, WordEncoder())), channels=8)
    rec = Recommender(model, memory_store, text_encoder=WordEncoder())
    before = {t: e.clone() for t, e in rec.node_embeddings.items()}
    old_ids = {t: list(ids) for t, ids in rec.snapshot.node_ids.items()}
    rec.add_item("m_new", text="space alien film")
    for t, ids in old_ids.items():
        rows = rec.snapshot.index_of(t, ids)
        assert torch.allclose(rec.node_embeddings[t][rows], before[t], atol=1e-6)
    assert rec.snapshot.node_ids["item"].index("m_new") == 12  # between d11 and s0


def test_new_user_with_scifi_likes_gets_scifi(store, trained_model):
    rec = serve(store, trained_model)
    rec.add_user("newbie", text="a fan of space films", liked=["s0", "s1", "s2"])
    assert rec.snapshot.equals(store.snapshot())
    recs = rec.recommend("newbie", k=5)
    assert {r.item_id for r in recs} <= SCIFI - {"s0", "s1", "s2"}
    for r in recs:  # explained through the liked items
        assert r.explanation.paths
        assert all(p.path.nodes[1].id in {"s0", "s1", "s2"} for p in r.explanation.paths)


def standardized(x: torch.Tensor) -> torch.Tensor:
    return (x - x.mean()) / x.std()


def test_a_new_user_with_text_and_likes_is_scored_with_their_likes_alone_blended_in(memory_store, trained_model):
    """Text and liked items: the grown model's standardized logits plus LIKED_ONLY_WEIGHT x the
    standardized fold-in of the liked items alone; text only or likes only: the grown model's."""
    rec = serve(memory_store, trained_model)
    liked = ["s0", "d1", "d2"]
    rec.add_user("both", text="a fan of space films", liked=liked)
    rec.add_user("likes", liked=liked)
    rec.add_user("text", text="a fan of space films")
    liked_only = rec.personal_logits(liked=liked)  # the fold-in on the graph served now
    grown = rec.model.score(rec._encoded, rec.snapshot.index_of("user", ["both", "likes", "text"]))
    expected = standardized(grown[0]) + LIKED_ONLY_WEIGHT * standardized(liked_only)
    assert not torch.allclose(grown[0], expected)
    assert torch.allclose(rec.logits(["both"])[0], expected, atol=1e-5)
    assert torch.allclose(rec.logits(["likes", "text"]), grown[1:], atol=1e-6)
    assert [r.item_id for r in rec.recommend("both", k=5, explain=False)] == [
        rec.snapshot.node_ids["item"][i] for i in expected.masked_fill(rec.unseen(["both"])[0].logical_not(), -1e9).topk(5).indices
    ]


def test_a_checkpoint_saved_after_cold_start_serves_the_new_nodes(memory_store, trained_model, tmp_path):
    rec = serve(memory_store, trained_model)
    rec.add_user("newbie", text="a fan of space films", liked=["s0", "s1", "s2"])
    add_two_new_films(rec)
    before = rec.recommend("newbie", k=6, explain=False)
    rec.save(tmp_path / "grown")
    loaded = Recommender.from_checkpoint(tmp_path / "grown", memory_store)
    after = loaded.recommend("newbie", k=6, explain=False)
    assert [r.item_id for r in after] == [r.item_id for r in before]
    assert [r.logit for r in after] == pytest.approx([r.logit for r in before], abs=1e-5)
    (tmp_path / "grown" / "blended_users.json").write_text('{"newbie": ["no-such-film"]}')
    with pytest.raises(KgrecError, match="blended_users.json"):
        Recommender.from_checkpoint(tmp_path / "grown", memory_store)


def test_anonymous_request_equals_add_user_without_the_write(store, trained_model):
    rec = serve(store, trained_model)
    stats = store.stats()
    anonymous = rec.recommend_for_items(["s0", "s1", "s2"], k=8)
    assert store.stats() == stats and rec.snapshot.equals(store.snapshot())
    assert all(r.explanation is None for r in anonymous)
    rec.add_user("newbie", liked=["s0", "s1", "s2"])
    named = rec.recommend("newbie", k=8, explain=False)
    assert [r.item_id for r in anonymous] == [r.item_id for r in named]
    assert [r.logit for r in anonymous] == pytest.approx([r.logit for r in named], abs=1e-5)
    assert {r.item_id for r in anonymous[:5]} <= SCIFI


def summary(recs):
    return [(r.item_id, round(r.score, 5), [p.path for p in r.explanation.paths]) for r in recs]


@pytest.mark.neo4j
def test_both_stores_serve_new_nodes_alike(both_stores, trained_model):
    memory, neo4j = (serve(s, trained_model) for s in both_stores)
    for rec in (memory, neo4j):
        add_two_new_films(rec)
        rec.add_user("newbie", liked=["s0", "d1"])
    assert memory.snapshot.equals(neo4j.snapshot)
    for user in ("newbie", "s_u0", "d_u0"):
        assert summary(memory.recommend(user, k=6)) == summary(neo4j.recommend(user, k=6))


def test_grown_snapshot_equals_the_stores_after_the_same_writes(store):
    load_films(store)
    before = store.snapshot()
    nodes = {"item": [NodeRecord("0", "first", "First")], "user": [NodeRecord("zz")]}
    interactions = [Interaction("zz", "0"), Interaction("zz", "s3"), Interaction("s_u0", "0", split="test")]
    triples = [Triple("0", "has_genre", "drama", NodeLabel.ITEM), Triple("0", "sequel_of", "d2", NodeLabel.ITEM, NodeLabel.ITEM)]
    grown = grow_snapshot(before, nodes, interactions, triples)
    store.upsert_nodes("Item", nodes["item"])
    store.upsert_nodes("User", nodes["user"])
    store.upsert_interactions(interactions)
    store.upsert_triples(triples)
    assert grown.snapshot.equals(store.snapshot())
    assert grown.rows["item"].tolist() == list(range(1, 25))  # "0" sorts first


BAD_REQUESTS = [
    ("add_item", ("s1",), {"text": "x"}, InvalidValueError, "exists already as an item id"),
    ("add_item", ("scifi",), {"text": "x"}, InvalidValueError, "exists already as an entity id"),
    ("add_item", ("n",), {"text": "x", "links": [("has_genre", "western")]}, UnknownIdError, "western"),
    ("add_item", ("n",), {"text": "   "}, InvalidValueError, "text must be a non-empty string"),
    ("add_item", ("n",), {"text": "x", "links": [("has genre", "scifi")]}, InvalidNameError, "relation name"),
    ("add_item", ("n",), {"text": "x", "links": [("sequel_of", "scifi")]}, InvalidValueError, "no item -> entity relation"),
    ("add_item", ("n",), {"text": "x", "links": ["scifi"]}, InvalidValueError, "(relation, entity id) pairs"),
    ("add_item", ("n",), {"text": "x", "properties": {"id": 1}}, InvalidNameError, "reserved"),
    ("add_item", ("",), {"text": "x"}, InvalidValueError, "node id must be a non-empty string"),
    ("add_user", ("n",), {}, InvalidValueError, "needs text, liked items or both"),
    ("add_user", ("s_u1",), {"liked": ["s0"]}, InvalidValueError, "exists already as a user id"),
    ("add_user", ("n",), {"liked": ["s0", "nope"]}, UnknownIdError, "nope"),
    ("add_user", ("n",), {"liked": "s0"}, InvalidValueError, "liked must be a sequence"),
    ("add_user", ("n",), {"text": ""}, InvalidValueError, "text must be a non-empty string"),
    ("recommend_for_items", (["nope"],), {}, UnknownIdError, "nope"),
    ("recommend_for_items", ([],), {}, InvalidValueError, "needs text, liked items or both"),
]


@pytest.mark.parametrize("method, args, kwargs, error, message", BAD_REQUESTS)
def test_bad_requests_raise_and_change_nothing(store, trained_model, method, args, kwargs, error, message):
    rec = serve(store, trained_model)
    stats, snapshot = store.stats(), store.snapshot()
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        getattr(rec, method)(*args, **kwargs)
    assert store.stats() == stats and store.snapshot().equals(snapshot)
    assert rec.snapshot.equals(snapshot)


def test_a_wrong_encoder_or_a_transductive_model_changes_nothing(memory_store, trained_model):
    load_films(memory_store)
    stats = memory_store.stats()

    class Wide(WordEncoder):
        dim = 32

    for rec, error, message in [
        (Recommender(trained_model, memory_store, text_encoder=Wide()), InvalidValueError, "size 16"),
        (Recommender(trained_model, memory_store), KgrecError, "no text encoder"),
        (Recommender(MatrixFactorization(training_graph(memory_store.snapshot())), memory_store),
         KgrecError, "cannot embed nodes added after training"),
    ]:
        with pytest.raises(error, match=message):
            rec.add_item("n", text="space film", links=[("has_genre", "scifi")])
        assert memory_store.stats() == stats
