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
    """Why ``item_id`` was recommended to ``user_id``: the heaviest path first, then the
    heaviest path of each relation not shown yet, of each new (liked item, relation) reason,
    then repeats. ``namespace`` spells the node labels of :meth:`cypher` and :meth:`to_html`:
    the store's, or the Neo4j default (``KgrecUser``...) for the embedded store."""

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

    def cypher(self) -> tuple[str, dict[str, str]]:
        """``(query, parameters)`` that match exactly these paths in Neo4j."""
        return path_query([p.path for p in self.paths], self.namespace)

    def browser_cypher(self) -> str:
        """The same query for Neo4j Browser: a ``:params`` line, then the query."""
        query, params = self.cypher()
        return f":params {json.dumps(params)}\n{query}"

    def to_html(self) -> str:
        """A self-contained interactive HTML picture of the paths (needs ``neo4j-viz``)."""
        from kgrec.explain.render import explanation_html

        return explanation_html(self)

    def save_html(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_html(), encoding="utf-8")
        return path


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One recommended item: ``logit`` is the model's :math:`g`, ``score`` its
    :math:`y_{ij} = \\sigma(g)` (near 1 for every top item of a softmax-trained model: rank by
    either, compare logits); ``reasons`` are what a conversation's request asked for that the
    item has ("directed by Stanley Kubrick, as you asked"), empty outside a conversation."""

    rank: int
    item_id: str
    name: str | None
    text: str | None
    score: float
    logit: float
    explanation: Explanation | None
    reasons: tuple[str, ...] = ()
