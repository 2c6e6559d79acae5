"""Conversations over the small film graph: turns, state, personalization, both stores."""

from __future__ import annotations

import pytest

from kgrec import InvalidValueError, Recommender, UnknownIdError
from kgrec.conversation import Conversation
from kgrec.models import KGRecModel, training_graph
from kgrec.train import Trainer, TrainConfig, seed_everything

from .films import FILMS, film_graph

SPACEY = {i for i, *_, rels in FILMS if "Kevin Spacey" in rels.get("starring", [])}
CRIME = {i for i, _, _, genres, _ in FILMS if "Crime" in genres}
YEAR = {i: year for i, _, year, *_ in FILMS}


@pytest.fixture(scope="module")
def trained():
    from kgrec import MemoryGraphStore

    store = MemoryGraphStore()
    film_graph(store)
    snapshot = store.snapshot()
    seed_everything(0)
    model = KGRecModel(training_graph(snapshot), channels=16, feature_mode="id")
    config = TrainConfig(loss="softmax", num_negatives=8, batch_size=64, lr=1e-2, epochs=10,
                         patience=10, progress=False)
    Trainer(model, snapshot, config).fit()
    return model.eval()


def _recommender(store, model) -> Recommender:
    film_graph(store)
    return Recommender(model, store)


@pytest.fixture
def rec(store, trained) -> Recommender:
    return _recommender(store, trained)


def ids(turn) -> list[str]:
    return [r.item_id for r in turn.recommendations]


def test_three_turns_narrow_exclude_and_never_repeat(rec):
    conv = Conversation(rec)
    first = conv.say("a thriller with Kevin Spacey", k=3)
    assert set(ids(first)) == SPACEY - {"16"}  # the three Spacey thrillers; American Beauty is no thriller
    assert all("starring Kevin Spacey, as you asked" in r.reasons for r in first.recommendations)
    assert "Kevin Spacey" in first.reply

    second = conv.say("no crime", k=3)
    assert not set(ids(second)) & CRIME
    assert not set(ids(second)) & set(ids(first))
    assert ids(second)[0] == "16"  # the one Spacey film left

    third = conv.say("from the nineties", k=3)
    shown = set(ids(first)) | set(ids(second))
    assert not set(ids(third)) & shown
    assert all(1990 <= YEAR[i] <= 1999 for i in ids(third))
    assert all(any("as you asked" in reason for reason in r.reasons) for r in third.recommendations)


def test_a_known_user_gets_unseen_items_and_model_paths(rec):
    conv = Conversation(rec, user_id="u0")
    turn = conv.say("something with Kevin Spacey", k=3)
    seen = set(rec.seen_items("u0"))
    assert not set(ids(turn)) & seen
    assert set(ids(turn)[:2]) == SPACEY - seen  # the two Spacey films u0 has not seen, then others
    assert not turn.recommendations[2].reasons
    assert all(r.explanation is not None and r.explanation.paths for r in turn.recommendations)


def test_an_anonymous_person_is_profiled_from_what_they_liked(rec):
    conv = Conversation(rec)
    turn = conv.say("I loved Fargo", k=5)
    assert "1" not in ids(turn)
    assert list(conv.state.liked) == ["1"]
    assert any("Fargo" in reason for r in turn.recommendations for reason in r.reasons)


def test_feedback_and_rejections_update_the_state(rec):
    conv = Conversation(rec)
    first = conv.say("a crime film", k=2)
    conv.reject(ids(first))
    conv.feedback("4", liked=True)
    second = conv.say("a crime film", k=20)
    assert not set(ids(second)) & (set(ids(first)) | {"4"})
    assert "4" in conv.state.liked
    with pytest.raises(UnknownIdError):
        conv.feedback("no-such-film", liked=False)
    with pytest.raises(InvalidValueError, match="liked"):
        conv.feedback("4", liked="yes")


def test_bad_input_gets_a_clear_reply_and_writes_nothing(rec):
    conv = Conversation(rec)
    before = rec.store.stats()
    with pytest.raises(InvalidValueError):
        conv.say("")
    injected = conv.say("'}) DETACH DELETE n //", k=3)
    assert injected.reply
    contradiction = conv.say("a horror film but no horror", k=3)
    assert "Horror" in contradiction.reply
    assert rec.store.stats() == before
    assert conv.say("a thriller with Kevin Spacey", k=1).recommendations  # still usable


@pytest.mark.neo4j
def test_both_stores_answer_a_conversation_alike(both_stores, trained):
    answers = []
    for store in both_stores:
        conv = Conversation(_recommender(store, trained), user_id="u1")
        turns = [conv.say(text, k=4) for text in ("a thriller", "no Brad Pitt", "from the 90s")]
        answers.append([(ids(t), [r.reasons for r in t.recommendations], t.reply) for t in turns])
    assert answers[0] == answers[1]
