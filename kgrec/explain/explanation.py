"""What :meth:`kgrec.Recommender.recommend` returns: items, scores and their explanations."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from kgrec.graph.cypher import path_query
from kgrec.graph.records import GraphPath
from kgrec.graph.schema import Namespace


@dataclass(frozen=True, slots=True)
class ExplainedPath:
    """A path from the user to the item that exists in the graph, with the model's weight.

    ``weight`` estimates how much of the item's score flows along the path (see
    :class:`~kgrec.explain.ranking.PathRanker`); ``view`` is the item relation it enters by.
    """

    path: GraphPath
    weight: float
    view: str
    sentence: str


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why ``item_id`` was recommended to ``user_id``: ``paths`` are chosen for variety (the
    heaviest path, then the heaviest of each relation not chosen yet, of each new (liked item,
    relation) reason, then repeats) and listed by weight, heaviest first. Each path's
    :attr:`shares` is its part of the shown paths' positive weight, and :attr:`labels` name
    the first "main reason" and the others "also": a reader sees the reasons in the order the
    model relies on them, and how much. ``namespace`` spells the node labels of
    :meth:`cypher` and :meth:`to_html`: the store's, or the Neo4j default (``KgrecUser``...)
    for the embedded store."""

    user_id: str
    item_id: str
    paths: tuple[ExplainedPath, ...]
    namespace: Namespace = Namespace()

    @property
    def sentence(self) -> str:
        """The heaviest path's sentence, or a plain statement that the graph has none."""
        if self.paths:
            return self.paths[0].sentence
        return "No path of at most three steps links you to this item in the graph."

    @property
    def shares(self) -> tuple[float, ...]:
        """Each path's share of the shown paths' positive weight, in [0, 1], summing to 1
        (a path of weight <= 0 gets 0; all of them 0 when no weight is positive)."""
        positive = [max(p.weight, 0.0) for p in self.paths]
        total = sum(positive)
        return tuple(w / total if total > 0 else 0.0 for w in positive)

    @property
    def labels(self) -> tuple[str, ...]:
        """``"main reason"`` for the first (heaviest) path, ``"also"`` for the others."""
        return tuple("main reason" if k == 0 else "also" for k in range(len(self.paths)))

    def cypher(self) -> tuple[str, dict[str, object]]:
        """``(query, parameters)`` that match exactly these paths in Neo4j, a path through
        other users as all the users it stands for (train interactions; see
        :func:`~kgrec.graph.cypher.path_query`)."""
        return path_query([p.path for p in self.paths], self.namespace)

    def browser_cypher(self) -> str:
        """The same query for Neo4j Browser: a ``:params`` line, then the query."""
        query, params = self.cypher()
        return f":params {json.dumps(params)}\n{query}"

    def to_html(self) -> str:
        """A self-contained HTML page (inline SVG, no script): the sentence as its title, the
        paths drawn from you to the item, a legend, each path's sentence; see
        :mod:`kgrec.explain.render` (:func:`~kgrec.explain.render.recommendations_html` draws a
        whole top-k)."""
        from kgrec.explain.render import explanation_html

        return explanation_html(self)

    def save_html(self, path: str | Path) -> Path:
        """Write :meth:`to_html` to ``path`` (UTF-8); returns the path."""
        path = Path(path)
        path.write_text(self.to_html(), encoding="utf-8")
        return path


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One recommended item: ``logit`` is the model's :math:`g`; ``score``, when the
    recommender has a calibration (:meth:`kgrec.Recommender.calibrate`), the probability,
    estimated on the validation split, that you like this item (that it is one of your
    held-out likes; see :mod:`kgrec.explain.calibration`), else :math:`\\sigma(g)` (near 1 for
    every top item of a softmax-trained model); neither rises down the ranking. ``reasons``
    are what a conversation's request asked for that the item has ("directed by Stanley
    Kubrick, as you asked"), empty outside a conversation."""

    rank: int
    item_id: str
    name: str | None
    text: str | None
    score: float
    logit: float
    explanation: Explanation | None
    reasons: tuple[str, ...] = ()
