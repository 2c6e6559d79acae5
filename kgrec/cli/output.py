"""How commands show recommendations and explanations: as text for a person, or as JSON."""

from __future__ import annotations

import json
from typing import Any

import typer

from kgrec.explain import Recommendation
from kgrec.explain.explanation import Explanation


def print_recommendations(recs: list[Recommendation], explain: bool = True) -> None:
    """Each item with its calibrated score (the chance, estimated on the validation split, that
    the user likes it), then, with ``explain``, its reasons by weight, labelled with their
    share of the shown weight."""
    for r in recs:
        typer.echo(f"{r.rank:>3}. {r.name}  (chance you like it {r.score:.1%}, logit {r.logit:.2f})")
        if explain and r.explanation is not None:
            print_reasons(r.explanation)


def print_reasons(explanation: Explanation) -> None:
    for label, share, p in zip(explanation.labels, explanation.shares, explanation.paths):
        typer.echo(f"       {f'{label} ({share:.0%})':<18} {p.sentence}")


def explanation_dict(explanation: Explanation) -> dict[str, Any]:
    """An explanation as plain JSON values: its sentence and its paths, heaviest first."""
    return {
        "user_id": explanation.user_id,
        "item_id": explanation.item_id,
        "sentence": explanation.sentence,
        "paths": [
            {
                "label": label,
                "share": share,
                "weight": p.weight,
                "sentence": p.sentence,
                "nodes": [{"label": n.label.value, "id": n.id, "name": n.name} for n in p.path.nodes],
                "relations": list(p.path.relations),
            }
            for label, share, p in zip(explanation.labels, explanation.shares, explanation.paths)
        ],
    }


def recommendation_dict(r: Recommendation) -> dict[str, Any]:
    return {
        "rank": r.rank,
        "item_id": r.item_id,
        "name": r.name,
        "score": r.score,
        "logit": r.logit,
        "explanation": None if r.explanation is None else explanation_dict(r.explanation),
    }


def echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=1, ensure_ascii=False))
