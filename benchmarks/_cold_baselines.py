"""The cold-start peers of ``benchmarks/cold.py``, a few lines of numpy each.

Every scorer returns ``[U, C]`` scores of the rows of ``history`` (``[U, I]``, 0/1: what each
user is known to like) against the candidate columns ``candidates`` (``[C]`` item indices);
higher is better. :func:`top_k` turns scores into ranked candidate indices.
"""

from __future__ import annotations

import numpy as np
import torch

from kgrec.models import EASE


def tfidf(features: np.ndarray) -> np.ndarray:
    """``[I, E]`` 0/1 item features weighted by ``log(I / df)`` and L2-normalized per row
    (a featureless item gets a zero row)."""
    df = features.sum(0)
    idf = np.log(features.shape[0] / np.maximum(df, 1))
    weighted = features * idf
    norms = np.linalg.norm(weighted, axis=1, keepdims=True)
    return weighted / np.where(norms > 0, norms, 1)


def feature_knn(history: np.ndarray, features: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Tf-idf feature overlap: the candidate's tf-idf vector against the sum of the user's
    items' (genre-KNN with genre flags, KG-KNN with genres + KG entities)."""
    vectors = tfidf(features)
    return (history @ vectors) @ vectors[candidates].T


def text_knn(history: np.ndarray, vectors: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Mean cosine between the candidate's text vector and the user's items' ones."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    counts = np.maximum(history.sum(1, keepdims=True), 1)
    return (history @ unit / counts) @ unit[candidates].T


def popularity(train: np.ndarray, num_users: int, candidates: np.ndarray) -> np.ndarray:
    """Every user gets the candidates' train positive counts (``train``: ``[U', I]``)."""
    return np.tile(train.sum(0)[candidates], (num_users, 1))


def random_scores(num_users: int, candidates: np.ndarray, seed: int) -> np.ndarray:
    """Seeded uniform scores."""
    return np.random.default_rng(seed).random((num_users, candidates.size))


def ease_fold_in(history: np.ndarray, train: np.ndarray, l2: float, candidates: np.ndarray) -> np.ndarray:
    """EASE fitted on ``train`` (``[U', I]``), the new users' ``history`` folded in through the
    item-item matrix: ``history @ B``."""
    weights = EASE.fit(torch.from_numpy(train).float(), l2).numpy()
    return (history @ weights)[:, candidates]


def top_k(scores: np.ndarray, k: int, masked: np.ndarray | None = None) -> np.ndarray:
    """``[U, min(k, C)]`` column indices of each row's best scores, best first; ties go to the
    lower column. ``masked`` ``[U, C]`` true where a column must not be ranked (it is placed
    last, so ``k`` must leave room: at most ``C - max masked per row``)."""
    scores = scores.astype(np.float64, copy=True)
    if masked is not None:
        scores[masked] = -np.inf
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    if masked is not None and np.take_along_axis(masked, order, 1).any():
        raise ValueError(f"k = {k} reaches masked columns")
    return order
