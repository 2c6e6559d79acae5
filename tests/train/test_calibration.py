"""Score calibration: fitted on the valid split of a trained model, monotone, kept by
checkpoints, better calibrated on test than sigmoid(logit), and strict about its inputs."""

from __future__ import annotations

import json

import pytest
import torch

from kgrec import InvalidValueError, MemoryGraphStore
from kgrec.errors import CheckpointError
from kgrec.models import MatrixFactorization, training_graph
from kgrec.explain.calibration import (
    METHODS,
    ScoreCalibration,
    compare_methods,
    expected_calibration_error,
    reliability,
)
from kgrec.recommender import Recommender
from tests.train.test_checkpoint import edit_config
from tests.train.test_training import train_kgrec


@pytest.fixture(scope="module")
def trained(planted_store):
    """A recommender over the planted graph with a KGRecModel trained by sampled softmax."""
    snapshot = planted_store.snapshot()
    _, model, _ = train_kgrec(snapshot, loss="softmax", num_negatives=16)
    return Recommender(model, planted_store, snapshot)


@pytest.fixture
def rec(trained):
    """``trained`` with no calibration (tests set their own)."""
    trained.calibration = None
    return trained


@pytest.mark.parametrize("method", METHODS)
def test_calibrated_scores_are_probabilities_monotone_in_the_logit(rec, method):
    calibration = rec.calibrate(method)
    assert rec.calibration is calibration and calibration.method == method
    assert calibration.fitted_on["users"] == len(set(rec.snapshot.interactions.edge_index(("valid",))[0].tolist()))
    users = rec.snapshot.node_ids["user"]
    logits = rec.logits(users)
    unseen = torch.rand(logits.shape, generator=torch.Generator().manual_seed(0)) < 0.8
    probabilities = calibration.transform(logits, unseen)
    assert probabilities.shape == logits.shape
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    ordered = probabilities.gather(1, logits.argsort(dim=1))
    assert (ordered[:, 1:] >= ordered[:, :-1]).all()  # never falls as the logit rises
    for recs in rec.recommend_batch(users, k=10).values():
        scores = [r.score for r in recs]
        assert scores == sorted(scores, reverse=True)


def test_first_and_tenth_scores_differ_visibly(rec):
    rec.calibrate()  # the default method
    gaps = [
        recs[0].score - recs[9].score
        for recs in rec.recommend_batch(rec.snapshot.node_ids["user"], k=10).values()
    ]
    assert min(gaps) > 0
    assert sum(gaps) / len(gaps) > 0.02  # two points of probability or more, on average


def test_calibrated_test_ece_beats_sigmoid(rec):
    calibration = rec.calibrate()
    calibrated = reliability(calibration, rec.model, rec.snapshot, k=10)
    baseline = reliability(None, rec.model, rec.snapshot, k=10)
    assert calibrated["method"] == calibration.method and baseline["method"] == "sigmoid-logit"
    assert calibrated["pairs"] == baseline["pairs"] > 0
    assert calibrated["ece"] < baseline["ece"] / 3
    assert len(baseline["bins"]) == 10 and 1 < len(calibrated["bins"]) <= 10  # ties share a bin
    assert sum(b["pairs"] for b in calibrated["bins"]) == calibrated["pairs"]
    means = [b["mean_probability"] for b in calibrated["bins"]]
    assert means == sorted(means) and len(set(means)) == len(means)


def test_methods_are_compared_on_valid_folds(rec):
    figures = compare_methods(rec.model, rec.snapshot, depth=20, k=10)
    assert set(figures) == set(METHODS)
    for row in figures.values():
        assert set(row) == {"log_loss", "brier", "ece"}
        assert all(value >= 0 for value in row.values())


@pytest.mark.parametrize("method", METHODS)
def test_checkpoints_keep_the_calibration(rec, planted_store, tmp_path, method):
    rec.save(tmp_path / "plain")
    assert Recommender.from_checkpoint(tmp_path / "plain", planted_store).calibration is None
    calibration = rec.calibrate(method)
    rec.save(tmp_path / "calibrated")
    config = json.loads((tmp_path / "calibrated" / "config.json").read_text())
    assert config["extra"]["serving"]["calibration"] == calibration.to_dict()
    loaded = Recommender.from_checkpoint(tmp_path / "calibrated", planted_store)
    assert loaded.calibration == calibration
    user = rec.snapshot.node_ids["user"][0]
    assert [r.score for r in loaded.recommend(user, k=10)] == [r.score for r in rec.recommend(user, k=10)]


def test_a_checkpoint_without_the_calibration_field_loads_uncalibrated(rec, planted_store, tmp_path):
    rec.calibrate()
    rec.save(tmp_path / "ckpt")
    edit_config(tmp_path / "ckpt", lambda c: c["extra"]["serving"].pop("calibration"))  # older checkpoint
    assert Recommender.from_checkpoint(tmp_path / "ckpt", planted_store).calibration is None


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda c: c["params"].__setitem__("a", -1.0), r"extra.serving.calibration: calibration params of platt-log-softmax must hold a \(finite, >= 0"),
        (lambda c: c["params"].__setitem__("b", "NaN"), r"extra.serving.calibration: calibration params"),
        (lambda c: c.__setitem__("method", "magic"), r"extra.serving.calibration: calibration method must be one of .* got 'magic'"),
        (lambda c: c.pop("fitted_on"), r"extra.serving.calibration: a calibration must be an object with the fields"),
    ],
)
def test_damaged_calibrations_are_refused(rec, planted_store, tmp_path, damage, match):
    rec.calibrate("platt-log-softmax")
    rec.save(tmp_path / "ckpt")
    edit_config(tmp_path / "ckpt", lambda c: damage(c["extra"]["serving"]["calibration"]))
    with pytest.raises(CheckpointError, match=match):
        Recommender.from_checkpoint(tmp_path / "ckpt", planted_store)


def test_isotonic_params_must_be_a_non_increasing_step_function():
    good = {"method": "isotonic-rank", "params": {"ranks": [1, 3], "probabilities": [0.3, 0.1]}, "fitted_on": {}}
    assert ScoreCalibration.from_dict(good).params == good["params"]
    for ranks, probabilities in (([1, 3], [0.1, 0.3]), ([3, 1], [0.3, 0.1]), ([1], [0.3, 0.1]), ([1, 2], [1.5, 0.1])):
        with pytest.raises(InvalidValueError, match="ranks .* and probabilities"):
            ScoreCalibration.from_dict({**good, "params": {"ranks": ranks, "probabilities": probabilities}})


def test_without_a_valid_split_calibrate_raises_and_scores_stay_sigmoid():
    store = MemoryGraphStore()
    store.upsert_nodes("user", [{"id": "a"}, {"id": "b"}])
    store.upsert_nodes("item", [{"id": str(k)} for k in range(6)])
    store.upsert_interactions(
        [{"user": u, "item": str(k), "split": "train" if k < 3 else "test"} for u in "ab" for k in range(0, 5, 2)]
    )
    snapshot = store.snapshot()
    rec = Recommender(MatrixFactorization(training_graph(snapshot), channels=4), store, snapshot)
    with pytest.raises(InvalidValueError, match="no valid interactions: a score calibration needs a valid split"):
        rec.calibrate()
    assert rec.calibration is None
    [first, *_] = rec.recommend("a", k=2, explain=False)
    assert first.score == pytest.approx(float(torch.sigmoid(torch.tensor(first.logit))))


def test_bad_arguments_are_named(rec):
    with pytest.raises(InvalidValueError, match="calibration method must be one of .* got 'bogus'"):
        rec.calibrate("bogus")
    with pytest.raises(InvalidValueError, match="model must be a RankingModel, got str"):
        ScoreCalibration.fit("model", rec.snapshot)
    with pytest.raises(InvalidValueError, match="snapshot must be a Snapshot, got dict"):
        ScoreCalibration.fit(rec.model, {})
    with pytest.raises(InvalidValueError, match="depth must be"):
        ScoreCalibration.fit(rec.model, rec.snapshot, depth=0)
    with pytest.raises(InvalidValueError, match="calibration must be a ScoreCalibration or None, got dict"):
        Recommender(rec.model, rec.store, rec.snapshot, calibration={"a": 1.0})
    with pytest.raises(InvalidValueError, match="a calibration must be an object"):
        ScoreCalibration.from_dict([1, 2])


def test_expected_calibration_error_uses_equal_mass_bins():
    generator = torch.Generator().manual_seed(0)
    p = torch.rand(10_000, generator=generator)
    labels = (torch.rand(10_000, generator=generator) < p).float()
    ece, table = expected_calibration_error(p, labels, bins=10)
    assert ece < 0.03  # labels drawn at the stated probabilities
    assert [row["pairs"] for row in table] == [1000] * 10
    shifted, _ = expected_calibration_error((p + 0.2).clamp(max=1), labels, bins=10)
    assert shifted > ece + 0.1
    tied = torch.tensor([0.1] * 5 + [0.2] * 3 + [0.3] * 2)
    ece, table = expected_calibration_error(tied, torch.tensor([0, 0, 0, 0, 1, 0, 1, 0, 1, 0]), bins=4)
    assert [row["pairs"] for row in table] == [5, 3, 2]  # no tie split across bins
    assert ece == pytest.approx((5 * 0.1 + 3 * (1 / 3 - 0.2) + 2 * 0.2) / 10)
    with pytest.raises(InvalidValueError, match="of one size, got 3 and 2"):
        expected_calibration_error(torch.rand(3), torch.ones(2))
