"""EASE: the closed form against a direct solve, the contract, and the evaluator's mask."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kgrec import MemoryGraphStore
from kgrec.errors import InvalidValueError
from kgrec.graph.snapshot import INTERACTION_EDGE
from kgrec.models import EASE, MODELS, training_graph
from kgrec.train import RankingEvaluator, Trainer


def history_of(graph) -> np.ndarray:
    x = np.zeros((graph["user"].num_nodes, graph["item"].num_nodes))
    users, items = graph[INTERACTION_EDGE].edge_index.numpy()
    x[users, items] = 1.0
    return x


def direct_ease(x: np.ndarray, l2: float) -> np.ndarray:
    """Column j of B minimises ||X_j - X b||^2 + l2 ||b||^2 with b_j = 0: solve the reduced
    ridge system over the other items, one column at a time (no closed-form trick)."""
    n = x.shape[1]
    b = np.zeros((n, n))
    for j in range(n):
        others = [i for i in range(n) if i != j]
        xo = x[:, others]
        b[others, j] = np.linalg.solve(xo.T @ xo + l2 * np.eye(n - 1), xo.T @ x[:, j])
    return b


@pytest.mark.parametrize("l2", [0.5, 3.0])
def test_closed_form_matches_a_direct_solve(tiny_snapshot, l2):
    graph = training_graph(tiny_snapshot)
    model = EASE(graph, l2=l2)
    x = history_of(graph)
    expected = direct_ease(x, l2)
    weights = model.weights.double().numpy()
    np.testing.assert_allclose(weights, expected, atol=1e-6)
    assert np.all(np.diag(weights) == 0)
    users = torch.arange(graph["user"].num_nodes)
    np.testing.assert_allclose(model(users).numpy(), x @ expected, atol=1e-5)
    items = torch.tensor([4, 0, 2])
    np.testing.assert_allclose(model(users, items).numpy(), (x @ expected)[:, [4, 0, 2]], atol=1e-5)


def test_evaluator_never_recommends_train_items():
    """EASE scores a user's own train items highest; the evaluator's mask must remove them."""
    store = MemoryGraphStore()
    store.upsert_nodes("user", [{"id": f"u{k}"} for k in range(4)])
    store.upsert_nodes("item", [{"id": f"i{k}"} for k in range(6)])
    train = [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 1), (2, 2), (3, 3), (3, 4), (2, 5)]
    test = [(0, 2), (1, 3), (2, 0), (3, 5)]
    store.upsert_interactions(
        [{"user": f"u{u}", "item": f"i{i}", "split": "train"} for u, i in train]
        + [{"user": f"u{u}", "item": f"i{i}", "split": "test"} for u, i in test]
    )
    snapshot = store.snapshot()
    model = EASE(training_graph(snapshot), l2=0.1)
    users, items = snapshot.node_ids["user"], snapshot.node_ids["item"]
    known = {(f"u{u}", f"i{i}") for u, i in train}
    unmasked = model(torch.arange(4)).topk(2).indices
    assert any((users[u], items[int(i)]) in known for u in range(4) for i in unmasked[u])
    evaluator = RankingEvaluator(snapshot.interactions, model.num_users, model.num_items)
    ranked, top = evaluator.top_k(model, "test", 3)
    assert ranked.numel() == 4
    assert not {(users[int(u)], items[int(i)]) for u, row in zip(ranked, top) for i in row} & known


def test_fits_once_and_trains_nothing(tiny_snapshot):
    model = EASE(training_graph(tiny_snapshot), l2=2.0)
    assert list(model.parameters()) == []
    assert model.hparams() == {"l2": 2.0} and MODELS["EASE"] is EASE
    result = Trainer(model, tiny_snapshot).fit()
    assert result.history == [] and "ndcg@20" in result.best_valid
    rebuilt = EASE(training_graph(tiny_snapshot), **model.hparams())
    rebuilt.load_state_dict(model.state_dict())
    assert set(model.state_dict()) == {"weights"}  # the history is rebuilt from the graph


@pytest.mark.parametrize("l2", [0, -1.0, float("nan"), float("inf"), "200", True])
def test_bad_l2_is_a_clear_error(tiny_snapshot, l2):
    with pytest.raises(InvalidValueError, match=r"l2 must be a float > 0"):
        EASE(training_graph(tiny_snapshot), l2=l2)
