"""Negative sampling: never a positive, uniform over the rest, and always ends (defect 9)."""

from __future__ import annotations

import logging
import threading

import pytest
import torch

from kgrec import MemoryGraphStore
from kgrec.errors import InvalidValueError
from kgrec.models import MatrixFactorization, training_graph
from kgrec.train import NegativeSampler, Trainer, TrainConfig
from kgrec.train import sampling

SECONDS = 20  # generous on a loaded 2-core machine; the old sampler never returned at all


def within(seconds: float, call):
    """``call()``'s result, failing the test if it has not returned after ``seconds`` (it runs
    in a daemon thread, so a call that never ends cannot hang the session)."""
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"did not return within {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.fixture(params=["dense", "sorted keys"])
def lookup(request, monkeypatch):
    """Run a test with each membership lookup of the sampler."""
    if request.param == "sorted keys":
        monkeypatch.setattr(sampling, "DENSE_LOOKUP_MAX", 0)
    return request.param


def edges(pairs: list[tuple[int, int]]) -> torch.Tensor:
    return torch.tensor(pairs, dtype=torch.long).t()


def test_a_user_with_every_item_has_no_negative_and_sampling_says_so(lookup):
    num_items = 30
    sampler = NegativeSampler(edges([(0, i) for i in range(num_items)] + [(1, 3), (2, 5)]), num_items)
    assert sampler.users_without_negatives.tolist() == [0]
    assert sampler.has_negatives(torch.tensor([0, 1, 2, 7])).tolist() == [False, True, True, True]
    with pytest.raises(InvalidValueError, match=r"user row\(s\) \[0\] interacted with every item"):
        within(SECONDS, lambda: sampler.sample(torch.tensor([1, 0, 2]), 4, torch.Generator().manual_seed(0)))
    others = within(SECONDS, lambda: sampler.sample(torch.tensor([1, 2]), 4, torch.Generator().manual_seed(0)))
    assert not sampler.is_positive(torch.tensor([[1], [2]]).expand(-1, 4), others).any()


@pytest.mark.parametrize("missing", [[123_456], [7, 150_000, 199_999]])
def test_a_near_full_user_gets_exactly_its_missing_items_uniformly(lookup, missing):
    """200,000 items, all but one (or three) positive: rejection alone would need ~10**5 rounds
    per row; the exact fallback draws from the complement."""
    num_items = 200_000
    items = torch.ones(num_items, dtype=torch.bool)
    items[missing] = False
    sampler = NegativeSampler(torch.stack([torch.zeros(num_items - len(missing), dtype=torch.long),
                                           items.nonzero().squeeze(1)]), num_items)
    drawn = within(SECONDS, lambda: sampler.sample(torch.zeros(300, dtype=torch.long), 10,
                                                   torch.Generator().manual_seed(1)))
    assert drawn.shape == (300, 10)
    counts = torch.bincount(drawn.flatten(), minlength=num_items)[missing]
    assert int(counts.sum()) == 3000
    assert (counts > 3000 / len(missing) * 0.85).all(), counts  # uniform: about 1,000 each of 3


def test_normal_users_get_uniform_items_they_did_not_interact_with(lookup):
    """User 0 liked items 0-9 of 20, user 1 item 19: no positive is ever drawn, and the draws
    are uniform over the other items (chi-square, 9 degrees of freedom, p = 0.001 cut 27.9)."""
    sampler = NegativeSampler(edges([(0, i) for i in range(10)] + [(1, 19)]), 20)
    users = torch.tensor([0, 1]).repeat(1000)
    drawn = sampler.sample(users, 10, torch.Generator().manual_seed(2))
    assert not sampler.is_positive(users.unsqueeze(1).expand_as(drawn), drawn).any()
    first = torch.bincount(drawn[users == 0].flatten(), minlength=20).double()
    assert first[:10].sum() == 0
    expected = first[10:].sum() / 10
    assert float(((first[10:] - expected) ** 2 / expected).sum()) < 27.9
    assert set(drawn[users == 1].flatten().tolist()) == set(range(19))


def test_training_leaves_out_a_user_with_every_item_and_trains_the_rest(caplog):
    num_items = 25  # the evaluator ranks a top 20
    store = MemoryGraphStore()
    store.upsert_nodes("item", [{"id": f"i{k}"} for k in range(num_items)])
    store.upsert_nodes("user", [{"id": u} for u in ("all", "a", "b", "c")])
    rows = [{"user": "all", "item": f"i{k}", "split": "train"} for k in range(num_items)]
    for n, user in enumerate(("a", "b", "c")):
        rows += [
            {"user": user, "item": f"i{n}", "split": "train"},
            {"user": user, "item": f"i{n + 1}", "split": "train"},
            {"user": user, "item": f"i{n + 2}", "split": "valid"},
            {"user": user, "item": f"i{n + 3}", "split": "test"},
        ]
    store.upsert_interactions(rows)
    snapshot = store.snapshot()
    model = MatrixFactorization(training_graph(snapshot), channels=4)
    before = model.user.weight.detach().clone()
    config = TrainConfig(epochs=2, batch_size=4, num_negatives=3, progress=False)
    with caplog.at_level(logging.WARNING, logger="kgrec.train.trainer"):
        trainer = Trainer(model, snapshot, config)
        result = within(SECONDS, trainer.fit)
    assert "1 user(s) interacted with every item in train (['all'])" in caplog.text
    assert trainer.train_edges.size(1) == 6  # the 6 pairs of a, b and c; none of 'all'
    assert len(result.history) == 2
    assert not torch.equal(model.user.weight, before)
