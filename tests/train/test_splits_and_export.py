"""Carved per-user splits, shared negatives with the softmax loss, and embeddings written back."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from kgrec import MemoryGraphStore
from kgrec.models import KGRecModel, MatrixFactorization, training_graph
from kgrec.train import (
    RankingEvaluator, Trainer, TrainConfig, per_user_split, seed_everything, softmax_loss, write_embeddings,
)


def test_per_user_split_is_seeded_and_per_user(planted_snapshot):
    ia = planted_snapshot.interactions
    train_only = dataclasses.replace(
        planted_snapshot, interactions=dataclasses.replace(ia, split=torch.zeros_like(ia.split))
    )
    a = per_user_split(train_only, {"test": 0.2, "valid": 0.1}, seed=1)
    b = per_user_split(train_only, {"test": 0.2, "valid": 0.1}, seed=1)
    assert torch.equal(a.interactions.split, b.interactions.split)
    for user in range(a.num_nodes("user")):
        split = a.interactions.split[a.interactions.user == user]  # 9: ceil(1.8) test, ceil(0.9) valid
        assert [int((split == code).sum()) for code in (0, 1, 2)] == [6, 1, 2]
    carved = per_user_split(planted_snapshot, {"valid": 0.5}, seed=0)  # 3 of the 6 train rows
    assert int(carved.interactions.mask(["valid"]).sum()) == 4 * planted_snapshot.num_nodes("user")
    assert torch.equal(carved.interactions.mask(["test"]), ia.mask(["test"]))
    few = per_user_split(planted_snapshot, {"valid": 0.5}, seed=0, min_interactions=7)
    assert torch.equal(few.interactions.split, ia.split)


def test_softmax_loss_with_shared_negatives_learns(planted_snapshot):
    assert softmax_loss(torch.tensor([10.0]), torch.tensor([[-10.0, -10.0]])) < 1e-6
    seed_everything(0)
    graph = training_graph(planted_snapshot)
    model = KGRecModel(graph, channels=32, feature_mode="id", temperature=0.2)
    config = TrainConfig(loss="softmax", num_negatives=16, shared_negatives=True, batch_size=64,
                         lr=0.01, epochs=30, patience=10, progress=False)
    Trainer(model, planted_snapshot, config).fit()
    evaluator = RankingEvaluator(planted_snapshot.interactions, model.num_users, model.num_items)
    assert evaluator.evaluate(model, "test")["ndcg@10"] > 0.5


def test_write_embeddings_back_to_the_store(planted_snapshot):
    store = MemoryGraphStore()
    store.upsert_nodes("user", [{"id": u} for u in planted_snapshot.node_ids["user"]])
    store.upsert_nodes("item", [{"id": i} for i in planted_snapshot.node_ids["item"]])
    model = MatrixFactorization(training_graph(planted_snapshot), channels=8)
    assert write_embeddings(store, planted_snapshot, model) == {
        "user": model.num_users, "item": model.num_items
    }
    ids = list(planted_snapshot.node_ids["item"])
    np.testing.assert_allclose(store.read_embeddings("item", ids), model.item.weight.detach().numpy(), rtol=1e-6)
