"""Online feedback through the Recommender: each event is written to the store as an
interaction and changes the user's next recommendations without retraining."""

from __future__ import annotations

import pytest
import torch

from kgrec import InvalidValueError, Recommender, UnknownIdError
from kgrec.feedback import FeedbackEvent, FeedbackPolicy
from kgrec.graph.records import Interaction
from tests.cold_start.conftest import ITEMS, WordEncoder, load_films

SCIFI, DRAMA = set(ITEMS["scifi"]), set(ITEMS["drama"])
USER = "s_u0"  # likes sci-fi films


def serve(store, model) -> Recommender:
    load_films(store)
    return Recommender(model, store, text_encoder=WordEncoder())


def logits(rec: Recommender, user: str) -> dict[str, float]:
    """Every unseen item's served logit for ``user``."""
    return {r.item_id: r.logit for r in rec.recommend(user, k=1000, explain=False)}


def test_like_removes_the_item_and_pulls_related_items_up(store, trained_model):
    rec = serve(store, trained_model)
    before = logits(rec, USER)
    liked = max(DRAMA & before.keys(), key=before.get)  # a drama the sci-fi fan was not shown
    event = rec.feedback(USER, liked, "like", timestamp=1_700_000_000, source="test")
    assert event == FeedbackEvent(USER, liked, "like", None, 1_700_000_000, "test")
    after = logits(rec, USER)
    assert liked not in after
    top = [r.item_id for r in rec.recommend(USER, k=5, explain=False)]
    assert top != sorted(before, key=before.get, reverse=True)[:5]
    # dramas (the liked film's genre) rise against the sci-fi films
    gain = {i: after[i] - before[i] for i in after}
    assert min(gain[i] for i in DRAMA & gain.keys()) > max(gain[i] for i in SCIFI & gain.keys())


def test_dislike_removes_the_item_and_lowers_the_items_the_model_relates_to_it(store, trained_model):
    rec = serve(store, trained_model)
    before = logits(rec, USER)
    disliked = max(before, key=before.get)  # the top recommendation
    unit = torch.nn.functional.normalize(rec.node_embeddings["item"], dim=1)
    rows = {i: int(rec.snapshot.index_of("item", [i])[0]) for i in before}
    similarity = {i: float(unit[rows[i]] @ unit[rows[disliked]]) for i in before if i != disliked}
    related = max(similarity, key=similarity.get)
    assert similarity[related] > 0.5
    rec.feedback(USER, disliked, "dislike")
    after = logits(rec, USER)
    assert disliked not in after
    assert after[related] < before[related]
    assert [r.item_id for r in rec.recommend(USER, k=1, explain=False)] != [disliked]


def test_ratings_and_watches_map_to_likes_dislikes_or_neither(memory_store, trained_model):
    rec = serve(memory_store, trained_model)
    before = logits(rec, USER)
    drama = sorted(DRAMA & before.keys())
    rec.feedback(USER, drama[0], "rating", value=3)  # neutral: only masked
    rec.feedback(USER, drama[1], "watch", value=0.1)  # barely started: neutral
    after = logits(rec, USER)
    assert drama[0] not in after and drama[1] not in after
    assert after == pytest.approx({i: g for i, g in before.items() if i in after})
    rec.feedback(USER, drama[2], "rating", value=5)
    assert logits(rec, USER)[drama[3]] > before[drama[3]]


def test_feedback_is_stored_the_same_on_both_stores(store, trained_model):
    rec = serve(store, trained_model)
    train_item = sorted(rec.seen_items(USER))[0]
    [old] = [r for r in store.user_interactions([USER])[USER] if r.item == train_item]
    fingerprints = store.snapshot().fingerprints()
    new_item = sorted(DRAMA)[0]
    rec.feedback(USER, new_item, "rating", value=4.5, timestamp=1_700_000_001, source="app")
    rec.feedback(USER, train_item, "dislike", timestamp=1_700_000_002, source="web")
    rec.feedback(USER, sorted(DRAMA)[1], "watch", timestamp=1_700_000_003)
    stored = {r.item: r for r in store.user_interactions([USER])[USER]}
    assert stored[new_item] == Interaction(USER, new_item, 4.5, 1.0, 1_700_000_001, "feedback", "rating", "app")
    # a pair that had an interaction keeps its split and rating: the training graph is unchanged
    assert stored[train_item] == Interaction(USER, train_item, old.rating, -1.0, 1_700_000_002, old.split,
                                             "dislike", "web")
    assert stored[sorted(DRAMA)[1]] == Interaction(USER, sorted(DRAMA)[1], None, 1.0, 1_700_000_003, "feedback",
                                                   "watch", "api")
    assert store.snapshot().fingerprints() == fingerprints
    rec.check_store(store)
    events = {e.item_id: e for e in rec.online.events([USER])[USER]}
    assert events == {
        new_item: FeedbackEvent(USER, new_item, "rating", 4.5, 1_700_000_001, "app"),
        train_item: FeedbackEvent(USER, train_item, "dislike", None, 1_700_000_002, "web"),
        sorted(DRAMA)[1]: FeedbackEvent(USER, sorted(DRAMA)[1], "watch", 1.0, 1_700_000_003, "api"),
    }


def test_a_second_recommender_on_the_store_sees_the_feedback(store, trained_model):
    rec = serve(store, trained_model)
    other = Recommender(trained_model, store, text_encoder=WordEncoder())
    first = other.recommend(USER, k=1, explain=False)[0].item_id
    rec.feedback(USER, first, "dislike")
    assert first not in logits(other, USER)
    assert [e.item_id for e in other.online.events([USER])[USER]] == [first]


def test_bad_events_name_the_value_and_write_nothing(store, trained_model):
    rec = serve(store, trained_model)
    before = store.user_interactions([USER])
    with pytest.raises(UnknownIdError, match="nobody"):
        rec.feedback("nobody", sorted(DRAMA)[0], "like")
    with pytest.raises(UnknownIdError, match="no-such-film"):
        rec.feedback(USER, "no-such-film", "like")
    with pytest.raises(InvalidValueError, match="'love'"):
        rec.feedback(USER, sorted(DRAMA)[0], "love")
    with pytest.raises(InvalidValueError, match="rating needs a value"):
        rec.feedback(USER, sorted(DRAMA)[0], "rating")
    with pytest.raises(InvalidValueError, match="9"):
        rec.feedback(USER, sorted(DRAMA)[0], "rating", value=9)
    with pytest.raises(InvalidValueError, match="takes no value"):
        rec.feedback(USER, sorted(DRAMA)[0], "like", value=1.0)
    with pytest.raises(InvalidValueError, match="'yesterday'"):
        rec.feedback(USER, sorted(DRAMA)[0], "like", timestamp="yesterday")
    with pytest.raises(InvalidValueError, match="source"):
        rec.feedback(USER, sorted(DRAMA)[0], "like", source="")
    assert store.user_interactions([USER]) == before
    with pytest.raises(InvalidValueError, match="alpha"):
        FeedbackPolicy(alpha=-1)


def test_another_process_on_the_same_embedded_folder_sees_the_feedback_after_sync(tmp_path, trained_model):
    """Two stores opened on one folder stand for two processes: each holds its own copy."""
    from kgrec import MemoryGraphStore

    writer = MemoryGraphStore.open(tmp_path / "graph")
    rec = serve(writer, trained_model)
    reader = MemoryGraphStore.open(tmp_path / "graph")
    other = Recommender(trained_model, reader, text_encoder=WordEncoder())
    first = other.recommend(USER, k=1, explain=False)[0].item_id
    rec.feedback(USER, first, "dislike", timestamp=1_700_000_000, source="web")
    reader.sync()
    assert other.online.events([USER])[USER] == [FeedbackEvent(USER, first, "dislike", None, 1_700_000_000, "web")]
    assert first not in logits(other, USER)
