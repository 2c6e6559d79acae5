"""A batch's loss scores only its pairs: the dense and pairwise paths agree with the pairs'
own scores, and a large catalogue never makes a [batch users x catalogue] matrix (issue #14)."""

from __future__ import annotations

import pytest
import torch

from kgrec.models import KGRecModel, LightGCNRanker, training_graph
from kgrec.train import LOSSES, NegativeSampler
from kgrec.train import batch_loss
from kgrec.train.batch_loss import BatchLoss


@pytest.fixture(scope="module", params=[KGRecModel, LightGCNRanker])
def model_and_edges(request, planted_snapshot):
    torch.manual_seed(0)
    graph = training_graph(planted_snapshot, with_kg=True)
    kwargs = {"channels": 16} if request.param is LightGCNRanker else {"channels": 16, "feature_mode": "id"}
    model = request.param(graph, **kwargs)
    return model, planted_snapshot.interactions.edge_index(("train",))


def expected_loss(model, loss, users, positives, negatives, known=None):
    """The loss from each pair's own score, computed one pair at a time."""
    model.eval()  # no id dropout: the same encoding as the batch's
    encoded = model.encode()
    pos = torch.stack([model.score(encoded, u.view(1), i.view(1))[0, 0] for u, i in zip(users, positives)])
    neg = torch.stack([
        torch.stack([model.score(encoded, u.view(1), j.view(1))[0, 0] for j in row])
        for u, row in zip(users, negatives)
    ])
    if known is not None:
        neg = neg.masked_fill(known, -torch.inf)
    return loss(pos, neg)


@pytest.mark.parametrize("pair_cost", [0, 10**9])  # 0: always pairwise; 10**9: always dense
@pytest.mark.parametrize("num_negatives", [2, 40])
def test_per_pair_negatives_loss_is_the_pairs_loss(model_and_edges, num_negatives, pair_cost, monkeypatch):
    monkeypatch.setattr(batch_loss, "PAIR_COST", pair_cost)
    model, edges = model_and_edges
    sampler = NegativeSampler(edges, model.num_items)
    generator = torch.Generator().manual_seed(1)
    users, positives = edges[:, torch.randperm(edges.size(1), generator=generator)[:12]]
    negatives = sampler.sample(users, num_negatives, generator)
    batch = BatchLoss(model.eval(), LOSSES["softmax"], sampler)
    got = batch(users, positives, negatives)
    want = expected_loss(model, LOSSES["softmax"], users, positives, negatives)
    assert torch.allclose(got, want, atol=1e-4)


def test_shared_negatives_mask_each_users_positives(model_and_edges):
    model, edges = model_and_edges
    sampler = NegativeSampler(edges, model.num_items)
    users, positives = edges[:, :10]  # the first user's pairs: its positives are among the shared
    shared = torch.cat([positives[:3], torch.arange(5)])
    known = sampler.is_positive(users.unsqueeze(1), shared.unsqueeze(0))
    assert known.any()
    got = BatchLoss(model.eval(), LOSSES["softmax"], sampler)(users, positives, shared)
    want = expected_loss(model, LOSSES["softmax"], users, positives, shared.expand(len(users), -1), known)
    assert torch.allclose(got, want, atol=1e-4)


def test_large_catalogue_batch_scores_pairs_not_the_catalogue(model_and_edges, monkeypatch):
    """When the users x items matrix would cost more than the pairs (PAIR_COST scaled down to
    this small catalogue), ``score`` is never asked for it."""
    monkeypatch.setattr(batch_loss, "PAIR_COST", 1)
    model, edges = model_and_edges
    sampler = NegativeSampler(edges, model.num_items)
    asked = []
    original = type(model).score
    monkeypatch.setattr(type(model), "score", lambda self, enc, u, i=None: asked.append((u, i)) or original(self, enc, u, i))
    users, positives = edges[:, ::7][:, :16]
    negatives = sampler.sample(users, 1, torch.Generator().manual_seed(0))
    BatchLoss(model, LOSSES["bpr"], sampler, l2=1e-4)(users, positives, negatives).backward()
    assert not any(i is None or len(u) * len(i) > users.numel() * 2 for u, i in asked)
