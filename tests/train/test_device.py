"""Training and evaluation run on the configured device; nothing in the trainer, sampler,
evaluator or losses creates a tensor on an implicit (CPU) device (issue #10, item 6)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from torch.overrides import TorchFunctionMode

from kgrec.errors import InvalidValueError
from kgrec.models import KGRecModel, training_graph
from kgrec.models.base import resolve_device
from kgrec.train import NegativeSampler, RankingEvaluator, Trainer, TrainConfig, losses, seed_everything
from kgrec.train import batch_loss, evaluation, sampling, trainer

CONFIG = dict(epochs=2, batch_size=64, lr=0.01, patience=5, progress=False)
#: torch functions that make a new tensor from no tensor: without ``device=`` they land on CPU.
FACTORIES = {
    torch.zeros, torch.ones, torch.empty, torch.full, torch.arange, torch.tensor, torch.eye,
    torch.rand, torch.randn, torch.randint, torch.randperm, torch.linspace,
}
#: The modules whose tensors must follow the device they are given.
AUDITED = {Path(m.__file__).resolve() for m in (trainer, batch_loss, sampling, evaluation, losses)}


class DevicelessFactories(TorchFunctionMode):
    """Records ``file:line`` of every factory call from :data:`AUDITED` code without ``device=``."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: set[str] = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in FACTORIES and kwargs.get("device") is None:
            caller = sys._getframe(1)
            if Path(caller.f_code.co_filename).resolve() in AUDITED:
                self.calls.add(f"{Path(caller.f_code.co_filename).name}:{caller.f_lineno}")
        return func(*args, **kwargs)


def test_train_config_device_default_and_forms():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert TrainConfig().device == expected
    assert TrainConfig(device="cpu").device == "cpu"
    assert TrainConfig(device=torch.device("cpu")).device == "cpu"
    assert resolve_device(None) == torch.device(expected)


@pytest.mark.parametrize("bad", ["gpu", "", "cpu:x", 0, 1.5, ["cpu"]])
def test_invalid_device_is_a_clear_error(bad):
    with pytest.raises(InvalidValueError, match="device"):
        TrainConfig(device=bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without CUDA")
def test_cuda_on_a_machine_without_it_is_a_clear_error():
    with pytest.raises(InvalidValueError, match="no such CUDA device"):
        TrainConfig(device="cuda")


def test_device_string_and_torch_device_train_identically(planted_snapshot):
    def run(device):
        seed_everything(0)
        model = KGRecModel(training_graph(planted_snapshot), channels=16)
        result = Trainer(model, planted_snapshot, TrainConfig(**CONFIG, device=device)).fit()
        return model, [row["loss"] for row in result.history]

    model, by_name = run("cpu")
    assert model.device == torch.device("cpu")
    assert by_name == run(torch.device("cpu"))[1]


@pytest.mark.parametrize("shared", [False, True])
def test_no_tensor_is_created_on_an_implicit_device(planted_snapshot, monkeypatch, shared):
    """Every factory call in the trainer, sampler (rejection rounds and the exact fallback),
    evaluator and losses names its device, so the same code runs on CUDA; and what they return
    is on the device of their inputs (CPU here)."""
    monkeypatch.setattr(sampling, "REJECTION_ROUNDS", 0)  # every row with a positive takes _exact
    seed_everything(0)
    graph = training_graph(planted_snapshot)
    model = KGRecModel(graph, channels=16)
    config = TrainConfig(**CONFIG, shared_negatives=shared, num_negatives=8, device="cpu")
    with DevicelessFactories() as audit:
        fit = Trainer(model, planted_snapshot, config)
        fit.fit()
        evaluator = RankingEvaluator(planted_snapshot.interactions, model.num_users, model.num_items)
        users, top = evaluator.top_k(model, "test", 5)
        metrics = evaluator.evaluate(model, "test", items=torch.arange(10))
        edges = planted_snapshot.interactions.edge_index(("train",))
        negatives = NegativeSampler(edges, model.num_items).sample(
            edges[0, :50], 4, torch.Generator().manual_seed(0)
        )
        scores = torch.randn(3, 4, device="cpu")
        for loss in losses.LOSSES.values():
            assert loss(scores[:, 0], scores[:, 1:]).device == scores.device
    assert audit.calls == set(), sorted(audit.calls)
    assert negatives.device == edges.device and negatives.shape == (50, 4)
    assert users.device.type == top.device.type == "cpu"
    assert metrics["users"] > 0


def test_losses_follow_their_inputs_to_another_device():
    """The meta device stands in for an accelerator: the losses make no tensor of their own."""
    positive, negative = torch.empty(4, device="meta"), torch.empty(4, 3, device="meta")
    for loss in losses.LOSSES.values():
        assert loss(positive, negative).device.type == "meta"


def test_mixed_precision_trains_with_half_precision_dense_layers(planted_snapshot):
    """Under ``mixed_precision`` the dense layers run in bfloat16 on CPU (the sparse propagation
    stays float32), the weights stay float32, and the model still learns."""
    seed_everything(0)
    model = KGRecModel(training_graph(planted_snapshot), channels=16)
    seen = []
    model.scorer.query.register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    untrained = RankingEvaluator(planted_snapshot.interactions, model.num_users, model.num_items)
    before = untrained.evaluate(model, "valid")["ndcg@20"]
    seen.clear()
    config = TrainConfig(**CONFIG, loss="softmax", num_negatives=8, device="cpu", mixed_precision=True)
    result = Trainer(model, planted_snapshot, config).fit()
    assert torch.bfloat16 in seen  # training steps ran under autocast
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert result.best_valid["ndcg@20"] > before
