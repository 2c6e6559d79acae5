"""The embedded store's relationships: compact adjacency lists, every edge seen from both ends.

Per node, the neighbours of each (relation, direction) in one list: an edge end costs one list
slot (8 bytes). Node keys are the store's canonical tuples (one per node) and each
(relation, direction) is one shared :class:`Link`, so no edge allocates an object of its own.
"""

from __future__ import annotations

from typing import Callable, Collection, Iterable, Iterator, NamedTuple

from kgrec.graph.schema import NodeLabel

NodeKey = tuple[NodeLabel, str]


class Link(NamedTuple):
    """A relationship type seen from one of its ends: ``outgoing`` when it points away."""

    relation: str
    outgoing: bool


#: ``{node: {neighbour: links}}`` over some edges: the :class:`Link` s by which ``node`` reaches
#: ``neighbour`` (several for parallel edges of different relations), in insertion order.
EdgeView = dict[NodeKey, dict[NodeKey, tuple[Link, ...]]]


class EdgeLists:
    """``node -> {link: [neighbour, ...]}`` for every edge, once from each end (a self-loop, one
    neighbour as in Neo4j, once). Callers dedupe edges; :meth:`add` appends."""

    def __init__(self) -> None:
        self._lists: dict[NodeKey, dict[Link, list[NodeKey]]] = {}
        self._links: dict[str, tuple[Link, Link]] = {}  # relation -> (outgoing, incoming)
        self._link_tuples: dict[tuple[Link, ...], tuple[Link, ...]] = {}

    def add(self, edges: Iterable[tuple[NodeKey, str, NodeKey]]) -> None:
        """Add the edges ``(head, relation, tail)``, ``head -[relation]-> tail`` (pass canonical
        node keys: they are kept)."""
        lists, links = self._lists, self._links
        for head, relation, tail in edges:
            pair = links.get(relation) or self._link_pair(relation)
            ends = [(head, pair[0], tail)]
            if tail != head:
                ends.append((tail, pair[1], head))
            for node, link, other in ends:
                row = lists.get(node)
                if row is None:
                    lists[node] = {link: [other]}
                elif (neighbours := row.get(link)) is None:
                    row[link] = [other]
                else:
                    neighbours.append(other)

    def _link_pair(self, relation: str) -> tuple[Link, Link]:
        """The shared (outgoing, incoming) links of ``relation``."""
        pair = self._links.get(relation)
        if pair is None:
            pair = self._links[relation] = (Link(relation, True), Link(relation, False))
        return pair

    def edges(self, node: NodeKey) -> Iterator[tuple[Link, NodeKey]]:
        """``(link, neighbour)`` for each edge of ``node`` (none for an unknown node)."""
        for link, neighbours in self._lists.get(node, {}).items():
            for other in neighbours:
                yield link, other

    @property
    def relations(self) -> frozenset[str]:
        """Every relation added (and any that :meth:`pairs_view` was asked for): a superset of
        the relations that have edges."""
        return frozenset(self._links)

    def _shared(self, links: tuple[Link, ...]) -> tuple[Link, ...]:
        return self._link_tuples.setdefault(links, links)

    def view(self, relations: Collection[str], keep: Callable[[NodeKey, NodeKey], bool]) -> EdgeView:
        """The :data:`EdgeView` of the edges of ``relations`` whose ends ``(node, neighbour)``
        ``keep`` accepts (asked once from each end). Link tuples are shared between entries."""
        wanted = {link for r in relations for link in self._links.get(r, ())}
        view: EdgeView = {}
        for node, lists in self._lists.items():
            for link, neighbours in lists.items():
                if link not in wanted:
                    continue
                for other in neighbours:
                    if keep(node, other):
                        row = view.setdefault(node, {})
                        row[other] = self._shared(row.get(other, ()) + (link,))
        return view

    def pairs_view(self, relation: str, pairs: Iterable[tuple[NodeKey, NodeKey]]) -> EdgeView:
        """The :data:`EdgeView` of the edges ``head -[relation]-> tail`` of ``pairs``: each pair
        once, ``head != tail`` (no parallel edges to merge), as the interactions are."""
        out, back = (self._shared((link,)) for link in self._link_pair(relation))
        view: EdgeView = {}
        for head, tail in pairs:
            if (row := view.get(head)) is None:
                row = view[head] = {}
            row[tail] = out
            if (row := view.get(tail)) is None:
                row = view[tail] = {}
            row[head] = back
        return view
