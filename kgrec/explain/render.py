"""Render an :class:`~kgrec.explain.explanation.Explanation` as a self-contained HTML graph
with ``neo4j-viz`` (the ``viz`` extra)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kgrec.errors import KgrecError
from kgrec.explain.sentences import display_name
from kgrec.graph.schema import NodeLabel

if TYPE_CHECKING:
    from kgrec.explain.explanation import Explanation

COLOURS = {NodeLabel.USER: "#4C8EDA", NodeLabel.ITEM: "#F79767", NodeLabel.ENTITY: "#57C7E3"}


def explanation_html(explanation: "Explanation") -> str:
    """One node per distinct graph node, one relationship per hop; wider lines carry more
    weight. Returns the HTML document as a string."""
    try:
        from neo4j_viz import Node, Relationship, VisualizationGraph
    except ImportError as exc:  # an optional extra: say how to get it
        raise KgrecError("rendering explanations needs neo4j-viz: pip install 'kgrec[viz]'") from exc

    nodes: dict[str, Node] = {}
    relationships: list[Relationship] = []
    top = max((abs(p.weight) for p in explanation.paths), default=1.0) or 1.0
    for rank, explained in enumerate(explanation.paths, start=1):
        path = explained.path
        labels = [explanation.namespace.label(n.label) for n in path.nodes]
        keys = [f"{label}:{n.id}" for label, n in zip(labels, path.nodes)]
        for key, label, node in zip(keys, labels, path.nodes):
            nodes.setdefault(
                key,
                Node(
                    id=key,
                    caption=display_name(node),
                    color=COLOURS[node.label],
                    size=20 if node.label is NodeLabel.ENTITY else 30,
                    properties={"label": label, "id": node.id},
                ),
            )
        for j, (rel, forward) in enumerate(zip(path.relations, path.forward)):
            source, target = (keys[j], keys[j + 1]) if forward else (keys[j + 1], keys[j])
            relationships.append(
                Relationship(
                    id=f"path{rank}-hop{j}",
                    source=source,
                    target=target,
                    caption=rel,
                    width=1 + 4 * abs(explained.weight) / top,
                    properties={"path": rank, "weight": explained.weight, "sentence": explained.sentence},
                )
            )
    graph = VisualizationGraph(nodes=list(nodes.values()), relationships=relationships)
    return graph.render(height="480px").data
