"""How an explanation presents its paths: by weight, with shares and labels a reader follows."""

from __future__ import annotations

import pytest

from kgrec.explain.explanation import ExplainedPath, Explanation
from tests.explain.test_sentences import CO_USER, DIRECTED


def explanation(*weights: float) -> Explanation:
    paths = [DIRECTED, CO_USER, DIRECTED]
    return Explanation(
        "alice", "blade", tuple(ExplainedPath(p, w, "director", "s") for p, w in zip(paths, weights))
    )


def test_shares_split_the_positive_weight_and_labels_name_the_main_reason():
    shown = explanation(0.03, 0.01, -0.02)
    assert shown.shares == pytest.approx((0.75, 0.25, 0.0))  # a negative weight brings nothing
    assert shown.labels == ("main reason", "also", "also")
    assert explanation(-0.01, -0.02).shares == (0.0, 0.0)
    assert explanation().shares == () and explanation().labels == ()


def test_the_demo_prints_scores_as_chances_and_reasons_in_weight_order(capsys):
    from kgrec.cli import _print_recommendations
    from kgrec.explain.explanation import Recommendation

    why = explanation(0.03, 0.01, -0.02)
    _print_recommendations([Recommendation(1, "blade", "Blade Runner (1982)", None, 0.134, 3.9, why)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "  1. Blade Runner (1982)  (chance you like it 13.4%, logit 3.90)"
    assert [line.split()[:3] for line in lines[1:]] == [["main", "reason", "(75%)"], ["also", "(25%)", "s"], ["also", "(0%)", "s"]]
