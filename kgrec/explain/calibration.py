"""Calibrated scores: a monotone map, fitted on the validation split, from what the model gives
an item to the probability that the user likes it.

A softmax-trained model's logits are shift-invariant per user (adding a constant to one user's
logits changes no loss), so ``sigmoid(logit)`` says nothing (0.997 for every top item). A
:class:`ScoreCalibration` maps one of three inputs, computed per user over the items the user
has not interacted with (the *unseen* items), to the probability that the item is one of the
user's held-out likes, as measured on the validation split:

- ``"platt-logit"``: Platt scaling, :math:`\\sigma(a g + b)`, of the raw logit :math:`g`;
- ``"platt-log-softmax"``: Platt scaling of :math:`g - \\log\\sum_{j\\,\\mathrm{unseen}} e^{g_j}`,
  the item's log-probability under the user's softmax (shift-invariant, as the model is);
- ``"isotonic-rank"``: isotonic regression (pool-adjacent-violators) on the item's rank among
  the user's unseen items; a non-increasing step function of the rank.

Each is fitted on every valid user's top ``depth`` unseen items (train items masked), where
recommendations come from. :func:`compare_methods` scores the three on the valid split (two
folds of users); :func:`reliability` measures the expected calibration error on the test split.

On ml100k (KGRecModel, ``KGREC_TRAINING``, 30 epochs, seed 2020), two-fold valid log loss over
the top 100 / ECE over the top 20: isotonic-rank 0.1622 / 0.0070, platt-log-softmax 0.1633 /
0.0177, platt-logit 0.1656 / 0.0222 (same order after 12 epochs): the rank is the default. Its
score depends on the rank alone (every user's first item reads the same), which the valid
figures prefer to the per-user softmax.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kgrec.checks import instance, int_in_range
from kgrec.errors import InvalidValueError, shown
from kgrec.graph.snapshot import Snapshot
from kgrec.models import RankingModel
from kgrec.train.evaluation import RankingEvaluator

log = logging.getLogger(__name__)

#: The calibration methods, by name; the first, the default, is the one chosen on ml100k's
#: valid split (see the module docstring).
METHODS = ("isotonic-rank", "platt-log-softmax", "platt-logit")
#: Unseen items per valid user that a calibration is fitted on.
FIT_DEPTH = 100


def calibration_inputs(method: str, logits: Tensor, unseen: Tensor) -> Tensor:
    """``[B, N]`` float64 inputs of ``method``'s map: the logits themselves, their log-softmax
    over each row's ``unseen`` items, or each item's rank (1 = best) among them. ``logits``
    ``[B, N]``; ``unseen`` ``[B, N]`` bool, True for the items the user has not interacted with
    (every item of a row gets an input, seen ones included)."""
    logits = logits.double()
    masked = logits.masked_fill(~unseen, -math.inf)
    if method == "platt-logit":
        return logits
    if method == "platt-log-softmax":
        return logits - torch.logsumexp(masked, dim=1, keepdim=True)
    if method == "isotonic-rank":
        ascending = masked.sort(dim=1).values
        not_above = torch.searchsorted(ascending, logits.contiguous(), right=True)
        return (1 + logits.size(1) - not_above).double()
    raise _unknown(method)


def _unknown(method: object) -> InvalidValueError:
    return InvalidValueError(f"calibration method must be one of {list(METHODS)}, got {shown(method)}")


def _platt(x: np.ndarray, y: np.ndarray, iterations: int = 50) -> tuple[float, float]:
    """``(a, b)`` maximizing the likelihood of ``y`` under :math:`\\sigma(a x + b)` (Newton's
    method on standardized ``x``)."""
    mean, scale = float(x.mean()), float(x.std()) or 1.0
    design = np.stack([(x - mean) / scale, np.ones_like(x)], axis=1)
    w = np.array([1.0, math.log(max(y.mean(), 1e-9) / max(1 - y.mean(), 1e-9))])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-design @ w))
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hessian, design.T @ (p - y))
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    a = w[0] / scale
    if a < 0:  # scores that rank likes last: no increasing map fits, use the base rate
        log.warning("Platt scaling found a negative slope %.4g: every score is the base rate", a)
        return 0.0, math.log(max(y.mean(), 1e-9) / max(1 - y.mean(), 1e-9))
    return float(a), float(w[1] - a * mean)


def _isotonic_decreasing(ranks: np.ndarray, y: np.ndarray) -> tuple[list[int], list[float]]:
    """Pool-adjacent-violators: ``(block start ranks, block rates)`` of the non-increasing step
    function of the rank that fits ``y`` best in squared error."""
    values = np.unique(ranks)
    positives = np.bincount(np.searchsorted(values, ranks), weights=y, minlength=len(values))
    counts = np.bincount(np.searchsorted(values, ranks), minlength=len(values)).astype(float)
    blocks: list[list[float]] = []  # [start rank, positives, count]
    for start, pos, count in zip(values.tolist(), positives.tolist(), counts.tolist()):
        blocks.append([start, pos, count])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] <= blocks[-1][1] / blocks[-1][2]:
            _, pos_b, count_b = blocks.pop()
            blocks[-1][1] += pos_b
            blocks[-1][2] += count_b
    return [int(b[0]) for b in blocks], [b[1] / b[2] for b in blocks]


@dataclass(frozen=True)
class ScoreCalibration:
    """A fitted monotone map from an item's logit for a user to the probability, estimated on
    the validation split, that the user likes the item (that it is one of their held-out
    likes). ``method`` is one of :data:`METHODS`; ``params`` its plain numbers: ``{"a", "b"}``
    for Platt scaling, ``{"ranks", "probabilities"}`` (block start ranks, ascending, and their
    non-increasing rates) for the isotonic map; ``fitted_on`` counts the valid users, pairs and
    positives it was fitted on. :meth:`to_dict` / :meth:`from_dict` give its JSON form."""

    method: str
    params: Mapping[str, Any]
    fitted_on: Mapping[str, int]

    @classmethod
    def fit(
        cls,
        model: RankingModel,
        snapshot: Snapshot,
        method: str = METHODS[0],
        depth: int = FIT_DEPTH,
    ) -> "ScoreCalibration":
        """Fit ``method`` on the valid split of ``snapshot`` (train items masked), on each
        valid user's top ``depth`` unseen items. Raises :class:`InvalidValueError` for a wrong
        argument, or when the snapshot has no valid interactions (nothing to fit on)."""
        _check_model(model, snapshot)
        if method not in METHODS:
            raise _unknown(method)
        top = _top_inputs(model, snapshot, "valid", int_in_range(depth, "depth"))
        kept = top.kept
        return cls._fit_on(method, top.inputs[method][kept], top.labels[kept], top.labels.size(0))

    @classmethod
    def _fit_on(cls, method: str, inputs: Tensor, labels: Tensor, users: int) -> "ScoreCalibration":
        """Fit on ``inputs`` ``[P]`` of ``method`` and their 0/1 ``labels`` ``[P]``, pairs of
        ``users`` users."""
        x, y = inputs.numpy(), labels.double().numpy()
        fitted_on = {"users": users, "pairs": int(y.size), "positives": int(y.sum())}
        if method == "isotonic-rank":
            ranks, probabilities = _isotonic_decreasing(x, y)
            params: dict[str, Any] = {"ranks": ranks, "probabilities": probabilities}
        else:
            a, b = _platt(x, y)
            params = {"a": a, "b": b}
        calibration = cls(method, params, fitted_on)
        log.info("score calibration %s fitted on %s", method, fitted_on)
        return calibration

    def transform(self, logits: Tensor, unseen: Tensor) -> Tensor:
        """``[B, N]`` float probabilities in [0, 1] of ``logits`` ``[B, N]``; ``unseen``
        ``[B, N]`` marks each user's items without an interaction (see
        :func:`calibration_inputs`). Non-decreasing in the logit within a row."""
        return self.apply(calibration_inputs(self.method, logits, unseen)).float()

    def apply(self, inputs: Tensor) -> Tensor:
        """The map itself, on inputs of :attr:`method` (:func:`calibration_inputs`), float64."""
        if self.method == "isotonic-rank":
            starts = torch.tensor(self.params["ranks"], dtype=torch.float64)
            block = (torch.searchsorted(starts, inputs.contiguous(), right=True) - 1).clamp(min=0)
            return torch.tensor(self.params["probabilities"], dtype=torch.float64)[block]
        return torch.sigmoid(self.params["a"] * inputs.double() + self.params["b"])

    def to_dict(self) -> dict[str, Any]:
        """The JSON form :meth:`from_dict` reads: plain strings, numbers and lists."""
        return {"method": self.method, "params": dict(self.params), "fitted_on": dict(self.fitted_on)}

    @classmethod
    def from_dict(cls, data: object) -> "ScoreCalibration":
        """The calibration of a :meth:`to_dict` form; :class:`InvalidValueError`, naming the
        field, for anything else."""
        if not isinstance(data, Mapping) or set(data) != {"method", "params", "fitted_on"}:
            raise InvalidValueError(
                "a calibration must be an object with the fields method, params, fitted_on, "
                f"got {shown(data)}"
            )
        method, params, fitted_on = data["method"], data["params"], data["fitted_on"]
        if method not in METHODS:
            raise _unknown(method)
        if not isinstance(fitted_on, Mapping) or not all(
            isinstance(k, str) and type(v) is int and v >= 0 for k, v in fitted_on.items()
        ):
            raise InvalidValueError(
                f"calibration fitted_on must map names to counts, got {shown(fitted_on)}"
            )
        _check_params(method, params)
        return cls(method, dict(params), dict(fitted_on))


def _number(value: object) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def _check_params(method: str, params: object) -> None:
    """Raise :class:`InvalidValueError` unless ``params`` fit ``method``."""
    if method == "isotonic-rank":
        ok = isinstance(params, Mapping) and set(params) == {"ranks", "probabilities"}
        ranks, rates = (params["ranks"], params["probabilities"]) if ok else ([], [])
        ok = (
            ok
            and isinstance(ranks, list)
            and isinstance(rates, list)
            and len(ranks) == len(rates) > 0
            and all(type(r) is int and r >= 1 for r in ranks)
            and all(_number(p) and 0 <= p <= 1 for p in rates)
            and all(r < s for r, s in zip(ranks, ranks[1:]))
            and all(p >= q for p, q in zip(rates, rates[1:]))
        )
        what = "ranks (ascending ints >= 1) and probabilities (non-increasing, in [0, 1]) of one length"
    else:
        ok = isinstance(params, Mapping) and set(params) == {"a", "b"}
        ok = ok and _number(params["a"]) and params["a"] >= 0 and _number(params["b"])
        what = "a (finite, >= 0: monotone) and b (finite)"
    if not ok:
        raise InvalidValueError(f"calibration params of {method} must hold {what}, got {shown(params)}")


def _check_model(model: object, snapshot: object) -> None:
    instance(model, RankingModel, "model")
    instance(snapshot, Snapshot, "snapshot")


@dataclass(frozen=True)
class _TopInputs:
    """Per evaluated user, the top ``depth`` unseen items of a phase: every method's inputs
    ``{method: [U, depth]}``, their logits ``[U, depth]``, labels ``[U, depth]`` (True for
    the phase's positives) and ``kept`` ``[U, depth]`` (False past a user's last unseen item,
    for users with fewer than ``depth``)."""

    inputs: dict[str, Tensor]
    logits: Tensor
    labels: Tensor
    kept: Tensor


def _top_inputs(model: RankingModel, snapshot: Snapshot, phase: str, depth: int) -> _TopInputs:
    """:class:`_TopInputs` of ``phase`` (``"valid"``: train masked; ``"test"``: train and valid
    masked), from the evaluator's full ranking; :class:`InvalidValueError` when no user has an
    interaction in ``phase``."""
    evaluator = RankingEvaluator(snapshot.interactions, model.num_users, model.num_items)
    chunks: dict[str, list[Tensor]] = {m: [] for m in METHODS}
    logits, labels, kept = [], [], []
    for _, scores, relevant in evaluator.scored(model, phase):
        scores = scores.cpu()
        top = scores.topk(min(depth, scores.size(1)), dim=1)
        unseen = scores > -math.inf
        for method in METHODS:
            chunks[method].append(calibration_inputs(method, scores, unseen).gather(1, top.indices))
        logits.append(top.values)
        kept.append(top.values > -math.inf)
        labels.append(relevant.gather(1, top.indices) & kept[-1])
    if not labels:
        raise InvalidValueError(
            f"the snapshot has no {phase} interactions: a score calibration needs a {phase} split"
        )
    inputs = {m: torch.cat(v) for m, v in chunks.items()}
    return _TopInputs(inputs, torch.cat(logits), torch.cat(labels), torch.cat(kept))


def expected_calibration_error(
    probabilities: Tensor, labels: Tensor, bins: int = 10
) -> tuple[float, list[dict[str, float]]]:
    """``(ECE, reliability table)`` of ``probabilities`` against ``labels`` in [0, 1] (0/1, or
    expected labels; any equal shapes). Equal-mass bins: the pairs sorted by probability are
    cut into ``bins`` runs of (nearly) equal size, each cut moved past the pairs that tie with
    the last one before it, so a tie stays in one bin (a step map may give fewer, unequal
    bins); each row of the table gives a bin's ``pairs``, ``mean_probability`` and ``positive_rate``;
    the ECE is the pair-weighted mean of ``|mean_probability - positive_rate|``."""
    int_in_range(bins, "bins")
    p = probabilities.flatten().double()
    y = labels.flatten().double()
    if p.numel() != y.numel() or p.numel() == 0:
        raise InvalidValueError(
            "probabilities and labels must be non-empty and of one size, "
            f"got {p.numel()} and {y.numel()}"
        )
    p, order = p.sort()
    y = y[order]
    nominal = [round(b * p.numel() / bins) for b in range(1, bins)]
    cuts = sorted({int(torch.searchsorted(p, p[c - 1], right=True)) for c in nominal if c > 0})
    table, ece = [], 0.0
    for start, end in zip([0, *cuts], [*cuts, p.numel()]):
        if end == start:
            continue
        mean_p, rate = float(p[start:end].mean()), float(y[start:end].mean())
        ece += (end - start) / p.numel() * abs(mean_p - rate)
        table.append({"pairs": end - start, "mean_probability": mean_p, "positive_rate": rate})
    return ece, table


def reliability(
    calibration: ScoreCalibration | None,
    model: RankingModel,
    snapshot: Snapshot,
    k: int = 20,
    bins: int = 10,
) -> dict[str, Any]:
    """The reliability of ``calibration`` (``None``: of ``sigmoid(logit)``) on the TEST split:
    the top ``k`` unseen items (train and valid masked) of every test user, in ``bins``
    equal-mass bins (see :func:`expected_calibration_error`).

    A calibration estimates the chance that an item is one of the user's *valid* likes; the
    test split holds another share of each user's likes (on ml100k about twice as many: 11,442
    test and 5,945 valid pairs, split at random per user). So each test like counts as the
    expected label ``|valid| / |test|`` (pairs in the whole snapshot), what it would be for a
    random hold-out of the valid split's size: ``"ece"`` and each bin's ``positive_rate`` use
    those labels; ``"ece_unweighted"`` and ``test_like_rate`` count test likes as 1. Returns
    ``{"method", "ece", "ece_unweighted", "valid_test_ratio", "bins", "pairs", "k"}``."""
    _check_model(model, snapshot)
    top = _top_inputs(model, snapshot, "test", int_in_range(k, "k"))
    if calibration is None:
        method, probabilities = "sigmoid-logit", torch.sigmoid(top.logits.double())
    else:
        method = calibration.method
        probabilities = calibration.apply(top.inputs[calibration.method])
    sizes = {s: snapshot.interactions.edge_index((s,)).size(1) for s in ("valid", "test")}
    ratio = sizes["valid"] / sizes["test"]
    probabilities, labels = probabilities[top.kept], top.labels[top.kept].double()
    ece, table = expected_calibration_error(probabilities, labels * ratio, bins)
    unweighted, raw = expected_calibration_error(probabilities, labels, bins)
    for row, raw_row in zip(table, raw):
        row["test_like_rate"] = raw_row["positive_rate"]
    return {
        "method": method,
        "ece": ece,
        "ece_unweighted": unweighted,
        "valid_test_ratio": ratio,
        "bins": table,
        "pairs": int(labels.numel()),
        "k": k,
    }



def compare_methods(
    model: RankingModel, snapshot: Snapshot, depth: int = FIT_DEPTH, k: int = 20, bins: int = 10
) -> dict[str, dict[str, float]]:
    """Every method of :data:`METHODS` scored on the VALID split by two-fold cross-validation
    over users (fitted on the even-indexed valid users' top ``depth`` items, scored on the odd
    ones' and the reverse): ``{method: {"log_loss", "brier", "ece"}}``, the log loss and Brier
    score over the top ``depth`` items, the ECE over the top ``k`` (``bins`` equal-mass bins),
    each the mean of the two folds."""
    _check_model(model, snapshot)
    top = _top_inputs(model, snapshot, "valid", int_in_range(depth, "depth"))
    k = min(int_in_range(k, "k"), depth)
    folds = torch.arange(top.labels.size(0)) % 2
    in_top_k = torch.arange(top.kept.size(1)) < k
    result = {}
    for method in METHODS:
        x = top.inputs[method]
        scores = {"log_loss": 0.0, "brier": 0.0, "ece": 0.0}
        for fold in (0, 1):
            fit, held = top.kept & (folds != fold)[:, None], top.kept & (folds == fold)[:, None]
            calibration = ScoreCalibration._fit_on(method, x[fit], top.labels[fit], int((folds != fold).sum()))
            p = calibration.apply(x).clamp(1e-7, 1 - 1e-7)
            y = top.labels.double()
            loss = -(y * p.log() + (1 - y) * (1 - p).log())
            scores["log_loss"] += float(loss[held].mean()) / 2
            scores["brier"] += float(((p - y) ** 2)[held].mean()) / 2
            first = held & in_top_k
            scores["ece"] += expected_calibration_error(p[first], y[first], bins)[0] / 2
        result[method] = scores
    return result
