"""The embedded default store: the whole graph in process memory, no server.

Nodes live in per-label dicts, edges in an adjacency list keyed by node, so neighbour and path
queries touch only the nodes they visit. It answers every query exactly as
:class:`~kgrec.graph.neo4j_store.Neo4jGraphStore` does on the same data (tests check that).
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from kgrec.graph.records import GraphPath, Interaction, Neighbour, NodeRecord, NodeRef, Triple
from kgrec.graph.schema import INTERACTED, NodeLabel
from kgrec.graph.snapshot import Snapshot
from kgrec.graph.store import GraphStats, GraphStore

NodeKey = tuple[NodeLabel, str]


@dataclass(slots=True)
class _Node:
    text: str | None = None
    name: str | None = None
    properties: dict = field(default_factory=dict)
    embeddings: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Edge:
    relation: str
    outgoing: bool
    other: NodeKey


class MemoryGraphStore(GraphStore):
    """An in-process :class:`~kgrec.graph.store.GraphStore`. Thread-safe for one writer."""

    def __init__(self) -> None:
        self._nodes: dict[NodeLabel, dict[str, _Node]] = {label: {} for label in NodeLabel}
        self._interactions: dict[tuple[str, str], Interaction] = {}
        self._triples: set[tuple[NodeLabel, str, str, NodeLabel, str]] = set()
        self._adjacency: dict[NodeKey, list[_Edge]] = defaultdict(list)
        # Adjacency with interactions of other splits left out, per split set; cleared on writes.
        self._filtered: dict[frozenset[str], dict[NodeKey, list[_Edge]]] = {}
        self._lock = threading.Lock()

    # -- writes ---------------------------------------------------------------------------------
    def _missing_ids(self, label: NodeLabel, ids: list[str]) -> list[str]:
        nodes = self._nodes[label]
        return [i for i in ids if i not in nodes]

    def _write_nodes(self, label: NodeLabel, batch: Sequence[NodeRecord]) -> None:
        with self._lock:
            nodes = self._nodes[label]
            for rec in batch:
                node = nodes.setdefault(rec.id, _Node())
                node.text = rec.text if rec.text is not None else node.text
                node.name = rec.name if rec.name is not None else node.name
                node.properties.update(rec.properties)

    def _write_interactions(self, batch: Sequence[Interaction]) -> None:
        with self._lock:
            self._filtered.clear()
            for rec in batch:
                if (rec.user, rec.item) not in self._interactions:
                    self._link((NodeLabel.USER, rec.user), INTERACTED, (NodeLabel.ITEM, rec.item))
                self._interactions[(rec.user, rec.item)] = rec

    def _write_triples(self, batch: Sequence[Triple]) -> None:
        with self._lock:
            self._filtered.clear()
            for t in batch:
                key = (t.head_label, t.head, t.relation, t.tail_label, t.tail)
                if key not in self._triples:
                    self._triples.add(key)
                    self._link((t.head_label, t.head), t.relation, (t.tail_label, t.tail))

    def _link(self, head: NodeKey, relation: str, tail: NodeKey) -> None:
        self._adjacency[head].append(_Edge(relation, True, tail))
        if tail != head:  # a self-loop is one neighbour, as in Neo4j
            self._adjacency[tail].append(_Edge(relation, False, head))

    def _write_embeddings(
        self, label: NodeLabel, property: str, batch: Sequence[tuple[str, np.ndarray]]
    ) -> None:
        with self._lock:
            nodes = self._nodes[label]
            for node_id, vector in batch:
                nodes[node_id].embeddings[property] = np.array(vector, dtype=np.float32)

    def clear(self) -> None:
        with self._lock:
            self.__init__()

    # -- reads ----------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        return Snapshot.build(
            nodes={
                label.key: [(i, n.text, n.name) for i, n in nodes.items()]
                for label, nodes in self._nodes.items()
            },
            interactions=[
                (r.user, r.item, r.rating, r.weight, r.timestamp, r.split)
                for r in self._interactions.values()
            ],
            triples=[(hl.key, h, rel, tl.key, t) for hl, h, rel, tl, t in self._triples],
        )

    def stats(self) -> GraphStats:
        relationships = Counter(rel for _, _, rel, _, _ in self._triples)
        if self._interactions:
            relationships[INTERACTED] = len(self._interactions)
        return GraphStats(
            nodes={label.value: len(nodes) for label, nodes in self._nodes.items()},
            relationships=dict(sorted(relationships.items())),
        )

    def _get_nodes(self, label: NodeLabel, ids: list[str]) -> list[NodeRecord]:
        nodes = self._nodes[label]
        return [NodeRecord(i, nodes[i].text, nodes[i].name, dict(nodes[i].properties)) for i in ids]

    def _ref(self, key: NodeKey) -> NodeRef:
        return NodeRef(key[0], key[1], self._nodes[key[0]][key[1]].name)

    def _neighbours(self, label: NodeLabel, node_id: str, relation: str | None) -> list[Neighbour]:
        return [
            Neighbour(e.relation, e.outgoing, self._ref(e.other))
            for e in self._adjacency.get((label, node_id), ())
            if relation is None or e.relation == relation
        ]

    def _adjacency_of(self, splits: frozenset[str]) -> dict[NodeKey, list[_Edge]]:
        """Adjacency without the interactions outside ``splits`` (built once, then cached)."""
        with self._lock:
            cached = self._filtered.get(splits)
            if cached is None:
                cached = {
                    key: [e for e in edges if e.relation != INTERACTED or self._split(key, e) in splits]
                    for key, edges in self._adjacency.items()
                }
                self._filtered[splits] = cached
            return cached

    def _split(self, key: NodeKey, edge: _Edge) -> str:
        user, item = (key, edge.other) if edge.outgoing else (edge.other, key)
        return self._interactions[(user[1], item[1])].split

    def _paths(
        self, user_id: str, item_ids: list[str], max_hops: int, limit: int, splits: list[str]
    ) -> dict[str, list[GraphPath]]:
        adjacency = self._adjacency_of(frozenset(splits))
        user: NodeKey = (NodeLabel.USER, user_id)
        targets = {(NodeLabel.ITEM, i) for i in item_ids}
        # Raw paths as (nodes, edges); only the first `limit` per item become GraphPaths.
        raw: dict[NodeKey, list[tuple[tuple[NodeKey, ...], tuple[_Edge, ...]]]] = {
            t: [] for t in targets
        }

        # Last hops into the targets, indexed by the node they leave from.
        into: dict[NodeKey, list[tuple[NodeKey, _Edge]]] = defaultdict(list)
        for target in targets:
            for e in adjacency.get(target, ()):
                into[e.other].append((target, _Edge(e.relation, not e.outgoing, target)))

        for e1 in adjacency.get(user, ()):
            a = e1.other
            if a in targets:
                raw[a].append(((user, a), (e1,)))
            if max_hops < 2:
                continue
            for target, last in into.get(a, ()):
                if target != a:
                    raw[target].append(((user, a, target), (e1, last)))
            if max_hops < 3:
                continue
            for e2 in adjacency.get(a, ()):
                b = e2.other
                if b == user or b == a:
                    continue
                for target, last in into.get(b, ()):
                    if target not in (a, b):
                        raw[target].append(((user, a, b, target), (e1, e2, last)))

        def key(path: tuple[tuple[NodeKey, ...], tuple[_Edge, ...]]) -> tuple:
            nodes, edges = path  # NodeLabel is a str enum: keys compare like GraphPath.sort_key
            return (len(edges), nodes, tuple((e.relation, e.outgoing) for e in edges))

        return {
            target[1]: [
                GraphPath(
                    tuple(self._ref(n) for n in nodes),
                    tuple(e.relation for e in edges),
                    tuple(e.outgoing for e in edges),
                )
                for nodes, edges in sorted(paths, key=key)[:limit]
            ]
            for target, paths in raw.items()
        }

    def _read_embeddings(
        self, label: NodeLabel, ids: list[str], property: str
    ) -> list[list[float] | None]:
        nodes = self._nodes[label]
        return [nodes[i].embeddings.get(property) for i in ids]
