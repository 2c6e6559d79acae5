"""Recommender inputs: every request argument and constructor option of the wrong type or range
is refused with kgrec's error naming it; an empty batch is an empty answer."""

from __future__ import annotations

import pytest

from kgrec import InvalidValueError, MemoryGraphStore, NodeRecord, UnknownIdError
from kgrec.errors import StoreMismatchError
from kgrec.explain.explainer import MAX_OPTION
from kgrec.recommender import Recommender
from tests.explain.test_recommender import recommender
from tests.graph.graphs import random_graph


@pytest.fixture(scope="module")
def rec():
    return recommender(MemoryGraphStore())


def test_an_empty_batch_gives_an_empty_answer(rec):
    assert rec.recommend_batch([]) == {}
    assert rec.recommend_batch((), k=3, filters={"1"}, explain=False) == {}


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda r: r.recommend("u1", filters=123), InvalidValueError, r"filters must be a collection .* got int 123"),
        (lambda r: r.recommend("u1", filters=[1, 2]), InvalidValueError, r"filters must be a collection of item id strings"),
        (lambda r: r.recommend("u1", filters={"1": True}), InvalidValueError, r"filters must be .* got dict"),
        (lambda r: r.recommend("u1", filters=b"12"), InvalidValueError, r"filters must be"),
        (lambda r: r.recommend("u1", exclude_seen="no"), InvalidValueError, r"exclude_seen must be True or False, got 'no'"),
        (lambda r: r.recommend("u1", explain=1), InvalidValueError, r"explain must be True or False"),
        (lambda r: r.recommend("u1", candidates=-3), InvalidValueError, r"candidates must be a positive int, got -3"),
        (lambda r: r.recommend("u1", candidates="5"), InvalidValueError, r"candidates must be a positive int"),
        (lambda r: r.recommend_batch("u1"), InvalidValueError, r"user_ids must be a sequence of id strings, got 'u1'"),
        (lambda r: r.recommend_batch(None), InvalidValueError, r"user_ids must be a sequence"),
        (lambda r: r.recommend_batch({"u1"}), InvalidValueError, r"user_ids must be a sequence"),
        (lambda r: r.recommend_batch(["u1", 2]), InvalidValueError, r"user_ids must be a sequence"),
        (lambda r: r.recommend_batch(["u1", "nobody"]), UnknownIdError, r"unknown user id\(s\): 'nobody'"),
        (lambda r: r.recommend_batch([], k=0), InvalidValueError, r"k must be a positive int"),
        (lambda r: r.recommend(["u1"]), InvalidValueError, r"user_id must be a string"),
        (lambda r: r.recommend("x" * 10_000), UnknownIdError, r"\(10,000 characters\)"),
        (lambda r: r.explain("nobody", "1"), UnknownIdError, r"'nobody'"),
    ],
)
def test_bad_request_arguments_are_named(rec, call, error, match):
    with pytest.raises(error, match=match):
        call(rec)


@pytest.mark.parametrize(
    "option, value, low",
    [
        ("paths_per_item", -1, 1),
        ("paths_per_item", 0, 1),
        ("paths_per_item", 2.5, 1),
        ("paths_per_item", True, 1),
        ("paths_per_item", "3", 1),
        ("anchors_per_item", 0, 1),
        ("anchors_per_item", MAX_OPTION + 1, 1),
        ("peers", -1, 0),
        ("peers", None, 0),
        ("paths_considered", 0, 1),
        ("paths_considered", 10**30, 1),
    ],
)
def test_bad_constructor_options_are_named(rec, option, value, low):
    with pytest.raises(InvalidValueError, match=rf"{option} must be an int from {low} to 10,000, got "):
        Recommender(rec.model, rec.store, rec.snapshot, **{option: value})


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"model": "not a model"}, "model must be a RankingModel, got str"),
        ({"store": {}}, "store must be a GraphStore, got dict"),
        ({"snapshot": 3}, "snapshot must be a Snapshot, got int"),
        ({"sentences": "templates"}, "sentences must be a SentenceBuilder, got str"),
    ],
)
def test_bad_constructor_arguments_are_named(rec, kwargs, match):
    args = {"model": rec.model, "store": rec.store, "snapshot": rec.snapshot, **kwargs}
    with pytest.raises(InvalidValueError, match=match):
        Recommender(**args)


def test_the_smallest_options_work(rec):
    small = Recommender(rec.model, rec.store, rec.snapshot, paths_per_item=1, anchors_per_item=1,
                        peers=0, paths_considered=1)
    recs = small.recommend("u1", k=5)
    assert len(recs) == 5 and all(len(r.explanation.paths) <= 1 for r in recs)
    assert any(r.explanation.paths for r in recs)


def test_check_store_says_what_differs(rec):
    grown = MemoryGraphStore()
    random_graph(grown, seed=3, users=10, items=30, entities=6)
    rec.check_store(grown)
    grown.upsert_nodes("Entity", [NodeRecord("z-new")])  # sorts last: no index moves
    with pytest.raises(StoreMismatchError, match="the model was trained on: entity ids differ$"):
        rec.check_store(grown)
