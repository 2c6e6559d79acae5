"""The Recommender facade: ranked, explained items whose paths really exist in the graph."""

from __future__ import annotations

import pytest
import torch

from kgrec import InvalidValueError, MemoryGraphStore, NodeRecord, UnknownIdError
from kgrec.errors import CheckpointError, KgrecError, StoreMismatchError
from kgrec.explain.ranking import path_view
from kgrec.models import KGRecModel, MatrixFactorization, training_graph
from kgrec.recommender import Recommender
from tests.graph.graphs import random_graph

MODELS = {
    "mf": lambda graph: MatrixFactorization(graph, channels=8),
    "kgrec": lambda graph: KGRecModel(graph, channels=8, feature_mode="id"),
}


def recommender(store, model_name="kgrec", seed=3):
    random_graph(store, seed=seed, users=10, items=30, entities=6)
    snapshot = store.snapshot()
    torch.manual_seed(0)
    return Recommender(MODELS[model_name](training_graph(snapshot)), store, snapshot)


@pytest.mark.parametrize("model_name", sorted(MODELS))
def test_recommendations_are_ranked_unseen_and_explained(store, model_name):
    rec = recommender(store, model_name)
    seen = {n.node.id for n in store.neighbours("User", "u1", relation="INTERACTED")}
    recs = rec.recommend("u1", k=8)
    assert [r.rank for r in recs] == list(range(1, 9))
    assert not seen & {r.item_id for r in recs}
    assert [r.score for r in recs] == sorted((r.score for r in recs), reverse=True)
    assert all(0.0 < r.score < 1.0 for r in recs)
    assert [r.logit for r in recs] == sorted((r.logit for r in recs), reverse=True)
    assert recs[0].name == f"Item {recs[0].item_id}"
    explained = [r for r in recs if r.explanation.paths]
    reachable = store.paths("u1", [r.item_id for r in recs])
    assert [r.item_id for r in explained] == [r.item_id for r in recs if reachable[r.item_id]]
    assert len(explained) >= 4
    candidates = rec.candidate_paths("u1", [r.item_id for r in explained])
    for r in explained:
        weights = [p.weight for p in r.explanation.paths]
        assert weights == sorted(weights, reverse=True)  # listed as the model relies on them
        shares = r.explanation.shares
        assert sum(shares) == pytest.approx(1.0 if weights[0] > 0 else 0.0)  # of positive weight
        assert list(shares) == sorted(shares, reverse=True)
        assert r.explanation.labels == ("main reason",) + ("also",) * (len(weights) - 1)
        reasons = {(p.path.nodes[1].id, p.view) for p in r.explanation.paths}
        available = {(p.nodes[1].id, path_view(p)) for p in candidates[r.item_id]}
        assert len(reasons) == min(len(weights), len(available))  # chosen for variety
        for p in r.explanation.paths:
            assert p.path.nodes[0].id == "u1" and p.path.nodes[-1].id == r.item_id
            assert p.sentence and p.sentence == p.sentence.strip()
        assert r.explanation.sentence == r.explanation.paths[0].sentence


def test_explanations_use_train_interactions_only(store):
    rec = recommender(store)
    snap = rec.snapshot
    held_out = {
        (snap.node_ids["user"][u], snap.node_ids["item"][i])
        for u, i in zip(*snap.interactions.edge_index(["valid", "test"]).tolist())
    }
    for recs in rec.recommend_batch(snap.node_ids["user"], k=10).values():
        for r in recs:
            for p in r.explanation.paths:
                hops = zip(p.path.nodes, p.path.nodes[1:], p.path.relations)
                for a, b, rel in hops:
                    if rel == "INTERACTED":
                        pair = (a.id, b.id) if a.label.value == "User" else (b.id, a.id)
                        assert pair not in held_out


def test_restricted_candidates_keep_the_heaviest_path(memory_store):
    """Anchors and peers only narrow the search to the paths the ranker weighs most: the top
    explanation equals the heaviest of every path through the anchors, and co-user paths go
    through peers only, unless those leave the item without a path (then anything goes)."""
    rec = recommender(memory_store)
    rec.explainer.peers = 3
    users = rec.snapshot.node_ids["user"]
    compared = 0
    for row, user in enumerate(users):
        peers = set(rec.explainer._peers(row))
        assert len(peers) == 3 and user not in peers
        for r in rec.recommend(user, k=6):
            item_rows = rec.snapshot.index_of("item", [r.item_id]).tolist()
            via = rec.explainer._anchors(row, [r.item_id], item_rows)
            middles = {p.path.nodes[2] for p in r.explanation.paths if len(p.path) == 3}
            if any(m.label.value == "User" and m.id not in peers for m in middles):
                assert memory_store.paths(user, [r.item_id], via=via, peers=sorted(peers)) == {r.item_id: []}
            every = memory_store.paths(user, [r.item_id], via=via, limit=10_000)[r.item_id]
            if not every:
                continue
            attention, alpha = rec.explainer._attention(row, [r.item_id], item_rows)
            weights = rec.explainer.ranker.weigh(user, {r.item_id: every}, attention, alpha)[r.item_id]
            top = every[max(range(len(every)), key=weights.__getitem__)]
            if len(top) == 3 and top.nodes[2].label.value == "User" and top.nodes[2].id not in peers:
                continue  # its peer is not among the 3 nearest: the restriction's price
            assert r.explanation.paths[0].weight == pytest.approx(max(weights))
            compared += 1
    assert compared >= 20


def summary(recs):
    """Items, rounded scores and explanation paths: batched matmuls may differ in the last bits."""
    return [
        (r.item_id, round(r.score, 5), [p.path for p in r.explanation.paths] if r.explanation else None)
        for r in recs
    ]


def test_batch_equals_single_requests(store):
    rec = recommender(store)
    batch = rec.recommend_batch(["u0", "u4"], k=5)
    assert summary(batch["u4"]) == summary(rec.recommend("u4", k=5))
    assert summary(batch["u0"]) == summary(rec.recommend("u0", k=5))


def test_filters_and_exclude_seen(store):
    rec = recommender(store)
    allowed = {"1", "2", "3", "4"}
    assert {r.item_id for r in rec.recommend("u2", k=10, filters=allowed)} <= allowed
    odd = rec.recommend("u2", k=5, filters=lambda item: int(item.id) % 2 == 1)
    assert odd and all(int(r.item_id) % 2 for r in odd)
    everything = rec.recommend("u2", k=30, exclude_seen=False, explain=False)
    assert len(everything) == 30 and all(r.explanation is None for r in everything)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda r: r.recommend("nobody"), UnknownIdError, "nobody"),
        (lambda r: r.recommend(7), InvalidValueError, "string"),
        (lambda r: r.recommend("u1", k=0), InvalidValueError, "positive"),
        (lambda r: r.recommend("u1", k=2.5), InvalidValueError, "positive"),
        (lambda r: r.recommend("u1", filters={"404"}), UnknownIdError, "404"),
        (lambda r: r.recommend("u1", filters="12"), InvalidValueError, "collection"),
        (lambda r: r.explain("u1", "404"), UnknownIdError, "404"),
    ],
)
def test_bad_requests(memory_store, call, error, match):
    rec = recommender(memory_store)
    with pytest.raises(error, match=match):
        call(rec)


def test_a_store_that_does_not_match_the_model_is_refused():
    rec = recommender(MemoryGraphStore())
    other = MemoryGraphStore()
    random_graph(other, seed=3, users=11, items=30, entities=6)
    with pytest.raises(StoreMismatchError, match="users"):
        Recommender(rec.model, other)
    grown = MemoryGraphStore()
    random_graph(grown, seed=3, users=10, items=30, entities=6)
    rec.check_store(grown)  # same ids: the model's indices still hold
    grown.upsert_nodes("Entity", [NodeRecord("e-new")])
    with pytest.raises(StoreMismatchError):
        rec.check_store(grown)


def test_pictures_and_browser_cypher(memory_store):
    rec = recommender(memory_store)
    top = rec.recommend("u1", k=1)[0]
    html = top.explanation.to_html()
    assert html.lstrip().startswith("<") and top.name in html
    text = top.explanation.browser_cypher()
    assert text.startswith(":params {") and "MATCH p0 = (:KgrecUser {id: $p0n0})" in text


@pytest.mark.neo4j
def test_every_returned_path_exists_in_neo4j(neo4j_store, neo4j_driver):
    rec = recommender(neo4j_store)
    checked = 0
    for recs in rec.recommend_batch(rec.snapshot.node_ids["user"], k=10).values():
        for r in recs:
            for p in r.explanation.paths:
                query, params = type(r.explanation)(r.explanation.user_id, r.item_id, (p,)).cypher()
                records, _, _ = neo4j_driver.execute_query(query, params)
                assert len(records) >= 1, (query, params)
                checked += 1
    assert checked > 50


@pytest.mark.neo4j
def test_both_stores_give_the_same_recommendations(both_stores):
    memory, neo4j = both_stores
    a, b = recommender(memory), recommender(neo4j)
    for user in a.snapshot.node_ids["user"]:
        assert a.recommend(user, k=10) == b.recommend(user, k=10)


def test_checkpoint_round_trip_and_store_check(tmp_path, store):
    rec = recommender(store)
    rec.save(tmp_path / "ckpt")
    again = Recommender.from_checkpoint(tmp_path / "ckpt", store)
    users = rec.snapshot.node_ids["user"]
    for user in users:
        assert summary(again.recommend(user, k=5)) == summary(rec.recommend(user, k=5))
    other = MemoryGraphStore()
    random_graph(other, seed=4, users=10, items=30, entities=6)
    with pytest.raises(CheckpointError, match="trained on a different graph: .*train interactions differ"):
        Recommender.from_checkpoint(tmp_path / "ckpt", other)
    with pytest.raises(CheckpointError, match="config.json: file missing"):
        Recommender.from_checkpoint(tmp_path, store)


def test_candidates_from_the_vector_index(store):
    rec = recommender(store)
    if isinstance(store, MemoryGraphStore):  # (a Neo4j test server may keep an earlier index)
        with pytest.raises(KgrecError, match="vector index"):
            rec.recommend("u1", candidates=5)
    rec.publish_embeddings()
    near = rec.recommend("u1", k=30, candidates=10, exclude_seen=False, explain=False)
    everything = rec.recommend("u1", k=30, exclude_seen=False, explain=False)
    assert 0 < len(near) <= 10
    user = rec.node_embeddings["user"][int(rec.snapshot.index_of("user", ["u1"])[0])]
    items = rec.node_embeddings["item"]
    cosine = items @ user / (items.norm(dim=1) * user.norm())
    nearest = {rec.snapshot.node_ids["item"][j] for j in cosine.topk(10).indices.tolist()}
    assert len({r.item_id for r in near} & nearest) >= 8  # Neo4j's index is approximate
    # the candidates keep the model's own order
    order = [r.item_id for r in everything if r.item_id in {n.item_id for n in near}]
    assert [r.item_id for r in near] == order
    with pytest.raises(InvalidValueError, match="candidates"):
        rec.recommend("u1", candidates=0)
