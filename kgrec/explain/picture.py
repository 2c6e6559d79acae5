"""The picture of explanation paths: nodes laid out in columns by hop and drawn as one inline SVG
with its legend (:func:`draw`); :mod:`kgrec.explain.render` puts it on a page.

One column per hop: "You", then what you liked (or the profile attribute a path leaves
through), then what links it to the recommendation (an entity, or other people), then the
recommended item(s). Every node is drawn once however many paths share it and carries its name
(wrapped, cut with "..."; the full name in an SVG ``<title>``); an edge carries its relation's
words and colour and is as wide as the heaviest path along it. Another user is never shown by
id: an aggregated co-user path (``GraphPath.support`` set) draws its middle user as "N people",
any other unnamed user as "another user". Names come from data and are escaped.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING

from kgrec.explain.sentences import display_name, split_camel
from kgrec.graph.records import GraphPath, NodeRef
from kgrec.graph.schema import INTERACTED, NodeLabel

if TYPE_CHECKING:
    from kgrec.explain.explanation import Explanation


#: Node kinds in legend order: ``(fill, stroke, legend text)``.
KINDS: dict[str, tuple[str, str, str]] = {
    "you": ("#1F5FAD", "#123E73", "You"),
    "liked": ("#FDE3CF", "#D9782D", "an item you liked"),
    "attribute": ("#E6DDF5", "#7A5BB5", "your profile"),
    "item": ("#FDE3CF", "#D9782D", "another item"),
    "entity": ("#D6F0F5", "#2B8FA6", "a knowledge-graph entity"),
    "people": ("#E8E8E8", "#6E6E6E", "other people"),
    "recommended": ("#FFF3C4", "#C48A00", "recommended"),
}
ROUNDED = ("you", "entity", "attribute", "people")  # drawn as pills; items are boxes
#: Relation colours, given out in order of first appearance on a page (INTERACTED is grey-blue).
PALETTE = ("#D1495B", "#2E86AB", "#3B8B3B", "#8E5BB5", "#E07A1F", "#A0522D", "#C2185B", "#00897B")
LIKED_COLOUR = "#7C93B0"

WIDTH = 1200  # viewBox units; the SVG scales to the page width
MARGIN_X = 110
TOP = 64  # room for the column headings
ROW = 56  # least vertical distance between two nodes of a column
BOX_W, BOX_H = 196, 40
YOU_R = 30
FONT = 14
LINE_CHARS = 25  # characters per drawn line of a name (two lines at most)


@dataclass
class _Node:
    key: str
    kind: str
    lines: list[str]
    title: str
    column: int
    data: str | None = None  # "<Neo4j label>:<id>", never for another user
    rank: int | None = None
    order: int = 0  # first appearance, the layout's tie-break
    y: float = 0.0


@dataclass
class _Edge:
    source: str
    target: str
    relation: str
    weight: float


@dataclass
class _Picture:
    """Nodes and edges of a page, each drawn once."""

    columns: int
    ranked: bool
    nodes: dict[str, _Node] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], _Edge] = field(default_factory=dict)
    relations: list[str] = field(default_factory=list)


def relation_words(relation: str) -> str:
    """What an edge says: ``INTERACTED`` -> ``liked``, ``musicComposer`` -> ``music composer``."""
    return "liked" if relation == INTERACTED else split_camel(relation)


def _lines(name: str) -> list[str]:
    lines = textwrap.wrap(name, LINE_CHARS, break_long_words=True) or [""]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), LINE_CHARS, placeholder="...")]
    return lines


def _people(path: GraphPath) -> str:
    support = getattr(path, "support", None)
    if support is None:
        return ""
    return "1 person" if support == 1 else f"{support:,} people"


def _you(explanation: "Explanation") -> tuple[str, str, str, str]:
    return "you", "you", "You", f"{explanation.namespace.label(NodeLabel.USER)}:{explanation.user_id}"


def _describe(
    explanation: "Explanation", path: GraphPath, position: int, tag: str
) -> tuple[str, str, str, str | None]:
    """``(key, kind, name, data)`` of ``path.nodes[position]``; ``tag`` tells the paths apart
    (another user is a different node on every path)."""
    node = path.nodes[position]
    ns = explanation.namespace
    if position == 0:
        return _you(explanation)
    if node.label is NodeLabel.USER:  # another user: counted or anonymous, never an id
        return f"people:{tag}", "people", _people(path) or node.name or "another user", None
    data = f"{ns.label(node.label)}:{node.id}"
    last = position == len(path.nodes) - 1
    if last and node.label is NodeLabel.ITEM and node.id == explanation.item_id:
        kind = "recommended"
    elif position == 1 and path.starts_with_attribute:
        kind = "attribute"
    elif position == 1 and node.label is NodeLabel.ITEM:
        kind = "liked"
    else:
        kind = "item" if node.label is NodeLabel.ITEM else "entity"
    return data, kind, display_name(node), data


def _add(picture: _Picture, key: str, kind: str, name: str, data: str | None, position: int) -> _Node:
    """The drawn node ``key``, added on first sight; a node met at several hops sits in the
    leftmost one's column, a recommended item always in the last column."""
    column = picture.columns - 1 if kind == "recommended" else min(position, picture.columns - 2)
    drawn = picture.nodes.get(key)
    if drawn is None:
        lines = [name] if kind == "you" else _lines(name)
        drawn = _Node(key, kind, lines, name, column, data, order=len(picture.nodes))
        picture.nodes[key] = drawn
    elif drawn.kind != "recommended":
        drawn.column = min(drawn.column, column)
    return drawn


def _picture(
    explanations: Sequence["Explanation"], names: Sequence[str | None], ranked: bool
) -> _Picture:
    """The nodes and edges of ``explanations``; ``names[i]`` names item ``i`` (None: its
    paths' name); ``ranked`` tags the items with their ranks."""
    hops = max((len(p.path) for e in explanations for p in e.paths), default=1)
    picture = _Picture(columns=hops + 1, ranked=ranked)
    for rank, (explanation, name) in enumerate(zip(explanations, names), start=1):
        _add(picture, *_you(explanation), 0)
        # the item first, so that it is drawn at its rank even without a path
        item = explanation.paths[0].path.nodes[-1] if explanation.paths and name is None else None
        item = item or NodeRef(NodeLabel.ITEM, explanation.item_id, name)
        data = f"{explanation.namespace.label(NodeLabel.ITEM)}:{item.id}"
        _add(picture, data, "recommended", display_name(item), data, picture.columns - 1).rank = rank
        for index, explained in enumerate(explanation.paths):
            path = explained.path
            tag = f"{rank}.{index}"
            drawn = [
                _add(picture, *_describe(explanation, path, k, tag), k) for k in range(len(path.nodes))
            ]
            for k, (relation, forward) in enumerate(zip(path.relations, path.forward)):
                source, target = (drawn[k], drawn[k + 1]) if forward else (drawn[k + 1], drawn[k])
                key = (source.key, target.key, relation)
                edge = picture.edges.setdefault(key, _Edge(source.key, target.key, relation, 0.0))
                edge.weight = max(edge.weight, abs(explained.weight))
                if relation not in picture.relations:
                    picture.relations.append(relation)
    return picture


def _layout(picture: _Picture) -> float:
    """Place nodes: each column in barycentre order of its neighbours to the right (fewer
    crossings), ranked items by rank; returns the picture's height."""
    columns: list[list[_Node]] = [[] for _ in range(picture.columns)]
    for node in picture.nodes.values():
        columns[node.column].append(node)
    height = TOP + ROW * max(len(c) for c in columns) + 8
    neighbours: dict[str, list[str]] = {key: [] for key in picture.nodes}
    for edge in picture.edges.values():
        neighbours[edge.source].append(edge.target)
        neighbours[edge.target].append(edge.source)
    placed: dict[str, float] = {}
    for column in reversed(range(picture.columns)):
        nodes = columns[column]

        def barycentre(node: _Node) -> tuple[float, int]:
            ys = [placed[k] for k in neighbours[node.key] if k in placed]
            return (sum(ys) / len(ys) if ys else float("inf"), node.order)

        by_rank = column == picture.columns - 1
        nodes.sort(key=(lambda n: (n.rank or 0, n.order)) if by_rank else barycentre)
        step = (height - TOP) / max(len(nodes), 1)
        for i, node in enumerate(nodes):
            node.y = placed[node.key] = TOP + step * (i + 0.5)
    return height


def _x(picture: _Picture, column: int) -> float:
    return MARGIN_X + column * (WIDTH - 2 * MARGIN_X) / (picture.columns - 1)


def _half_width(node: _Node) -> float:
    return YOU_R if node.kind == "you" else BOX_W / 2


def _colours(picture: _Picture) -> dict[str, str]:
    others = [r for r in picture.relations if r != INTERACTED]
    colours = {r: PALETTE[i % len(PALETTE)] for i, r in enumerate(others)}
    colours[INTERACTED] = LIKED_COLOUR
    return colours


def _bezier(x1: float, y1: float, mid: float, y2: float, x2: float, t: float) -> tuple[float, float]:
    """The point at ``t`` of the edge curve ``M x1,y1 C mid,y1 mid,y2 x2,y2``."""
    u = 1 - t
    x = u**3 * x1 + 3 * u * t * mid + t**3 * x2
    return x, (u**3 + 3 * u * u * t) * y1 + (3 * u * t * t + t**3) * y2


def _edges_svg(picture: _Picture, colours: dict[str, str]) -> tuple[list[str], list[str]]:
    """Edge curves, heaviest first, and their labels: one per fan (edges of one relation that
    share an end are labelled once, on the heaviest), each moved along its edge off the
    labels already placed when it can."""
    top = max((e.weight for e in picture.edges.values()), default=0.0) or 1.0
    curves, labels = [], []
    placed: list[tuple[float, float, float]] = []  # label centres and half widths
    labelled: set[tuple[str, bool, str]] = set()  # (node, edge leaves it rightwards, relation)
    for edge in sorted(picture.edges.values(), key=lambda e: -e.weight):
        a, b = picture.nodes[edge.source], picture.nodes[edge.target]
        if a.column > b.column:
            a, b = b, a
        x1, x2 = _x(picture, a.column) + _half_width(a), _x(picture, b.column) - _half_width(b)
        mid = (x1 + x2) / 2
        colour = colours[edge.relation]
        words = relation_words(edge.relation)
        curves.append(
            f'<path d="M{x1:.1f},{a.y:.1f} C{mid:.1f},{a.y:.1f} {mid:.1f},{b.y:.1f} {x2:.1f},{b.y:.1f}" '
            f'stroke="{colour}" stroke-width="{1.5 + 4.5 * edge.weight / top:.2f}" fill="none" '
            f'stroke-opacity="0.8"><title>{escape(words)} (weight {edge.weight:.4g})</title></path>'
        )
        ends = {(a.key, True, edge.relation), (b.key, False, edge.relation)}
        if ends & labelled:
            continue
        labelled |= ends
        half = 4 + 3.5 * len(words)  # about half the label's width at 12 px
        spots = [_bezier(x1, a.y, mid, b.y, x2, t) for t in (0.5, 0.35, 0.65)]
        free = [
            (x, y)
            for x, y in spots
            if all(abs(px - x) > half + ph or abs(py - y) > FONT + 1 for px, py, ph in placed)
        ]
        x, y = (free or spots)[0]
        placed.append((x, y, half))
        labels.append(
            f'<text class="rel" x="{x:.1f}" y="{y + 4:.1f}" fill="{colour}">{escape(words)}</text>'
        )
    return curves, labels


def _node_svg(picture: _Picture, node: _Node) -> str:
    x, y = _x(picture, node.column), node.y
    fill, stroke, _ = KINDS[node.kind]
    data = f' data-node="{escape(node.data)}"' if node.data else ""
    parts = [f'<g class="node {node.kind}"{data}><title>{escape(node.title)}</title>']
    if node.kind == "you":
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{YOU_R}" fill="{fill}" stroke="{stroke}"/>')
        you = escape(node.lines[0])
        parts.append(f'<text class="name you" x="{x:.1f}" y="{y + 5:.1f}">{you}</text>')
        return "".join(parts) + "</g>"
    radius = BOX_H / 2 if node.kind in ROUNDED else 6
    thick = 3 if node.kind == "recommended" else 1.5
    parts.append(
        f'<rect x="{x - BOX_W / 2:.1f}" y="{y - BOX_H / 2:.1f}" width="{BOX_W}" height="{BOX_H}" '
        f'rx="{radius}" fill="{fill}" stroke="{stroke}" stroke-width="{thick}"/>'
    )
    if node.kind == "recommended":
        tag = f"RECOMMENDED #{node.rank}" if picture.ranked else "RECOMMENDED"
        left, above = x - BOX_W / 2 + 4, y - BOX_H / 2 - 4
        parts.append(f'<text class="tag" x="{left:.1f}" y="{above:.1f}">{tag}</text>')
    first = y + 5 - (len(node.lines) - 1) * (FONT + 2) / 2
    for i, line in enumerate(node.lines):
        line_y = first + i * (FONT + 2)
        parts.append(f'<text class="name" x="{x:.1f}" y="{line_y:.1f}">{escape(line)}</text>')
    return "".join(parts) + "</g>"


def _headings(picture: _Picture) -> list[str]:
    kinds = {n.kind for n in picture.nodes.values()}
    middle = [w for k, w in (("liked", "what you liked"), ("attribute", "your profile")) if k in kinds]
    names = ["You"]
    if picture.columns > 2:
        names.append(" / ".join(middle) or "linked")
    if picture.columns > 3:
        names += ["what links them"] * (picture.columns - 3)
    names.append("Recommended for you")
    return [
        f'<text class="heading" x="{_x(picture, c):.1f}" y="22">{escape(n[:1].upper() + n[1:])}</text>'
        for c, n in enumerate(names)
    ]


def _svg(picture: _Picture, colours: dict[str, str]) -> str:
    height = _layout(picture)
    curves, labels = _edges_svg(picture, colours)
    nodes = [_node_svg(picture, n) for n in picture.nodes.values()]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'width="100%" role="img" aria-label="explanation graph">'
        + "".join(_headings(picture) + curves + nodes + labels)
        + "</svg>"
    )


def _legend(picture: _Picture, colours: dict[str, str]) -> str:
    """The node kinds and relations of the page, each with a small swatch."""
    kinds = {n.kind for n in picture.nodes.values()}
    swatch = '<li><svg width="22" height="14">{}</svg>{}</li>'
    entries = [
        swatch.format(
            f'<rect x="1" y="1" width="20" height="12" rx="{7 if kind in ROUNDED else 2}" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="1.5"/>',
            escape(text),
        )
        for kind, (fill, stroke, text) in KINDS.items()
        if kind in kinds
    ]
    entries += [
        swatch.format(
            f'<line x1="1" y1="7" x2="21" y2="7" stroke="{colours[r]}" stroke-width="4"/>',
            escape(relation_words(r)),
        )
        for r in picture.relations
    ]
    return '<ul class="legend">' + "".join(entries) + "</ul>"


def draw(explanations: Sequence["Explanation"], names: Sequence[str | None], ranked: bool) -> tuple[str, str]:
    """``(svg, legend)``: the picture of ``explanations``' paths as an inline ``<svg>`` and the
    HTML list of its node kinds and relations; ``names[i]`` names item ``i`` (None: its paths'
    name); ``ranked`` tags the items with their ranks."""
    picture = _picture(explanations, names, ranked)
    colours = _colours(picture)
    return _svg(picture, colours), _legend(picture, colours)
