"""The cold-start peers of benchmarks/cold.py rank toy catalogues as their definitions say."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "_cold_baselines.py"
_SPEC = importlib.util.spec_from_file_location("_cold_baselines", _PATH)
peers = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(peers)


def ranking(scores: np.ndarray, candidates: np.ndarray, masked: np.ndarray | None = None) -> list[list[int]]:
    """Item indices, best first, per user (all but the masked ones, at most one per row)."""
    k = len(candidates) - (masked is not None)
    return [candidates[row].tolist() for row in peers.top_k(scores, k, masked)]


# items: 0 and 1 share genre A, 2 has B, 3 has A and B; genre C is on every item
GENRES = np.array([[1, 0, 1], [1, 0, 1], [0, 1, 1], [1, 1, 1], [0, 0, 1]], dtype=float)


def test_feature_knn_ranks_by_shared_rare_features():
    history = np.array([[1, 0, 0, 0, 0]], dtype=float)  # likes item 0 (genre A)
    candidates = np.array([1, 2, 3, 4])
    scores = peers.feature_knn(history, GENRES, candidates)
    assert ranking(scores, candidates) == [[1, 3, 2, 4]]
    # genre C is on every item: idf 0, so item 4 (C only) and item 2 (B, C) share nothing with item 0
    assert scores[0, 1] == 0 and scores[0, 3] == 0


def test_feature_knn_sums_over_the_users_items():
    history = np.array([[1, 0, 1, 0, 0]], dtype=float)  # likes A and B
    candidates = np.array([1, 3])
    assert ranking(peers.feature_knn(history, GENRES, candidates), candidates) == [[3, 1]]


def test_text_knn_is_the_mean_cosine_to_the_users_items():
    vectors = np.array([[2, 0, 0], [0, 3, 0], [1, 0, 0], [1, 1, 0], [0, 0, 1]], dtype=float)
    history = np.array([[1, 1, 0, 0, 0]], dtype=float)
    candidates = np.array([2, 3, 4])
    scores = peers.text_knn(history, vectors, candidates)
    np.testing.assert_allclose(scores[0], [0.5, np.sqrt(0.5), 0.0])
    assert ranking(scores, candidates) == [[3, 2, 4]]


def test_popularity_ranks_by_train_counts_for_every_user():
    train = np.array([[1, 1, 0], [0, 1, 0], [0, 1, 1]], dtype=float)  # counts 1, 3, 1
    candidates = np.array([0, 1, 2])
    assert ranking(peers.popularity(train, 2, candidates), candidates) == [[1, 0, 2], [1, 0, 2]]


def test_ease_fold_in_follows_co_occurrence():
    # items 0 and 1 are always liked together, 2 and 3 together; item 3 is the most popular
    train = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1]], dtype=float)
    history = np.array([[1, 0, 0, 0], [0, 0, 1, 0]], dtype=float)
    candidates = np.array([0, 1, 2, 3])
    scores = peers.ease_fold_in(history, train, 1.0, candidates)
    masked = history[:, candidates] > 0
    assert [r[0] for r in ranking(scores, candidates, masked)] == [1, 3]


def test_random_scores_are_seeded():
    candidates = np.arange(50)
    a, b = peers.random_scores(3, candidates, 2020), peers.random_scores(3, candidates, 2020)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, peers.random_scores(3, candidates, 2021))


def test_top_k_skips_masked_columns_and_breaks_ties_to_the_lower_column():
    scores = np.array([[1.0, 5.0, 5.0, 2.0]])
    masked = np.array([[False, True, False, False]])
    assert peers.top_k(scores, 3, masked).tolist() == [[2, 3, 0]]
    with pytest.raises(ValueError, match="masked"):
        peers.top_k(scores, 4, masked)
