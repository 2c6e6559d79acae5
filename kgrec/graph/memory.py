"""The embedded default store: the whole graph in process memory, no server.

Nodes live in per-label dicts, edges in adjacency lists keyed by node
(:mod:`~kgrec.graph.memory_edges`), interactions per user
(:mod:`~kgrec.graph.memory_interactions`), so neighbour and path queries touch only the nodes
they visit. Each node's id string and key tuple exist once: interactions, triples and edges
share them, whatever strings the written records carried. It answers every query exactly as
:class:`~kgrec.graph.neo4j_store.Neo4jGraphStore` does on the same data (tests check that).
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from kgrec.errors import InvalidValueError, KgrecError
from kgrec.graph.candidate_query import CandidateQuery, RequestCandidate
from kgrec.graph.memory_candidates import request_candidates
from kgrec.graph.memory_edges import EdgeLists, EdgeView, Link, NodeKey
from kgrec.graph.memory_interactions import InteractionsByUser
from kgrec.graph.records import GraphPath, Interaction, Neighbour, NodeRecord, NodeRef, Triple
from kgrec.graph.schema import INTERACTED, SPLITS, NodeLabel
from kgrec.graph.snapshot import Snapshot
from kgrec.graph.path_query import PathQuery
from kgrec.graph.store import GraphStats, GraphStore

#: One str object per split name, shared by every stored interaction.
_SPLIT = {split: split for split in SPLITS}


@dataclass(slots=True)
class _Node:
    key: NodeKey  # the canonical (label, id): its id is the node dict's key
    text: str | None = None
    name: str | None = None
    properties: dict = field(default_factory=dict)
    embeddings: dict[str, np.ndarray] = field(default_factory=dict)


#: A path not built yet: its nodes, its links and its ``support`` (see :class:`GraphPath`).
_RawPath = tuple[tuple[NodeKey, ...], tuple[Link, ...], int | None]


def _raw_path_key(path: _RawPath) -> tuple:
    """:meth:`GraphPath.sort_key` of a path not built yet (a NodeLabel compares as its str)."""
    nodes, edges, _ = path
    return (len(edges), nodes, tuple((e.relation, e.outgoing) for e in edges))


def _same(holders: dict[NodeKey, tuple[Link, ...]], b: NodeKey, first: Link) -> list[Link]:
    """The links by which user ``b`` holds an attribute through ``first``'s relation."""
    return [e for e in holders.get(b, ()) if e.relation == first.relation]


class MemoryGraphStore(GraphStore):
    """An in-process :class:`~kgrec.graph.store.GraphStore`. Thread-safe for one writer.

    ``MemoryGraphStore()`` lives in memory only; :meth:`open` keeps one in a folder.
    """

    @classmethod
    def open(cls, folder: str | Path) -> "MemoryGraphStore":
        """The store kept in ``folder`` (created if missing): writes go to its append-only
        journal, which other processes that opened the folder replay on :meth:`sync`; ``save()``
        compacts it. See :mod:`kgrec.graph.memory_file`."""
        from kgrec.graph.memory_file import PersistentMemoryGraphStore  # it subclasses this one

        return PersistentMemoryGraphStore(folder)

    def __init__(self) -> None:
        self._nodes: dict[NodeLabel, dict[str, _Node]] = {label: {} for label in NodeLabel}
        self._interactions = InteractionsByUser()
        self._triples: set[tuple[NodeLabel, str, str, NodeLabel, str]] = set()
        self._edges = EdgeLists()
        # Adjacency of some edges only (a split set's interactions, some KG relations) by
        # neighbour, for path queries; cleared on writes.
        self._views: dict[tuple, EdgeView] = {}
        self._vector_indexes: dict[str, tuple[NodeLabel, int, str, str]] = {}
        self._refs: dict[NodeKey, NodeRef] = {}  # query results' node refs; cleared on node writes
        self._lock = threading.Lock()

    # -- writes ---------------------------------------------------------------------------------
    def _missing_ids(self, ids: Mapping[NodeLabel, list[str]]) -> dict[NodeLabel, list[str]]:
        return {
            label: [i for i in group if i not in self._nodes[label]] for label, group in ids.items()
        }

    def _write_nodes(self, label: NodeLabel, batch: Sequence[NodeRecord]) -> None:
        with self._lock:
            self._refs.clear()
            nodes = self._nodes[label]
            for rec in batch:
                node = nodes.get(rec.id)
                if node is None:
                    node = nodes[rec.id] = _Node((label, rec.id))
                node.text = rec.text if rec.text is not None else node.text
                node.name = rec.name if rec.name is not None else node.name
                node.properties.update(rec.properties)

    def _write_interactions(self, batch: Sequence[Interaction]) -> None:
        with self._lock:
            self._views.clear()
            users, items = self._nodes[NodeLabel.USER], self._nodes[NodeLabel.ITEM]
            new = []
            for rec in batch:
                user, item, split = users[rec.user].key, items[rec.item].key, _SPLIT[rec.split]
                if rec.user is not user[1] or rec.item is not item[1] or rec.split is not split:
                    rec = Interaction(  # the same record, on the store's shared strings
                        user[1], item[1], rec.rating, rec.weight, rec.timestamp, split, rec.kind, rec.source
                    )
                if self._interactions.put(rec):
                    new.append((user, INTERACTED, item))
            self._edges.add(new)

    def _write_triples(self, batch: Sequence[Triple]) -> None:
        with self._lock:
            self._views.clear()
            new = []
            for t in batch:
                head, tail = self._nodes[t.head_label][t.head].key, self._nodes[t.tail_label][t.tail].key
                relation = sys.intern(t.relation)
                key = (head[0], head[1], relation, tail[0], tail[1])
                if key not in self._triples:
                    self._triples.add(key)
                    new.append((head, relation, tail))
            self._edges.add(new)

    def _write_embeddings(
        self, label: NodeLabel, property: str, batch: Sequence[tuple[str, np.ndarray]]
    ) -> None:
        with self._lock:
            nodes = self._nodes[label]
            for node_id, vector in batch:
                nodes[node_id].embeddings[property] = np.array(vector, dtype=np.float32)

    def _vector_index_config(self, name: str) -> tuple[int, str] | None:
        if name not in self._vector_indexes:
            return None
        _, dimensions, similarity, _ = self._vector_indexes[name]
        return dimensions, similarity

    def _drop_vector_index(self, name: str) -> None:
        del self._vector_indexes[name]

    def _create_vector_index(
        self, label: NodeLabel, name: str, dimensions: int, similarity: str, property: str
    ) -> None:
        self._vector_indexes.setdefault(name, (label, dimensions, similarity, property))

    def _query_vector_index(self, name: str, vector: list[float], k: int) -> list[tuple[str, float]]:
        if name not in self._vector_indexes:
            raise KgrecError(f"no vector index named {name!r}: call create_vector_index first")
        label, dimensions, similarity, property = self._vector_indexes[name]
        if len(vector) != dimensions:
            raise InvalidValueError(f"index {name!r} holds {dimensions}-d vectors, got {len(vector)}")
        rows = [(i, n.embeddings[property]) for i, n in self._nodes[label].items() if property in n.embeddings]
        rows = [(i, v) for i, v in rows if v.shape == (dimensions,)]
        if not rows:
            return []
        ids = [i for i, _ in rows]
        matrix = np.stack([v for _, v in rows]).astype(np.float64)
        query = np.asarray(vector)
        if similarity == "cosine":
            norms = np.linalg.norm(matrix, axis=1) * np.linalg.norm(query)
            scores = (1 + matrix @ query / np.where(norms > 0, norms, 1)) / 2
        else:
            scores = 1 / (1 + ((matrix - query) ** 2).sum(1))
        order = np.argsort(-scores, kind="stable")[:k]
        return [(ids[j], float(scores[j])) for j in order]

    def clear(self) -> None:
        indexes = self._vector_indexes  # like Neo4j, clearing the data keeps the schema
        with self._lock:
            MemoryGraphStore.__init__(self)  # the data only: a subclass keeps its own state
        self._vector_indexes = indexes

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

    def records(
        self,
    ) -> tuple[dict[NodeLabel, list[NodeRecord]], list[Interaction], list[Triple]]:
        """Everything stored as the records that write it again: nodes per label (text, name,
        properties; embeddings are not records), interactions user by user (users in the order
        of their first interaction, a user's in insertion order), triples in no order. Used to
        export a loaded graph (:mod:`kgrec.graph.bulk_import`)."""
        with self._lock:
            nodes = {
                label: [NodeRecord(i, n.text, n.name, dict(n.properties)) for i, n in group.items()]
                for label, group in self._nodes.items()
            }
            triples = [Triple(h, rel, t, hl, tl) for hl, h, rel, tl, t in self._triples]
            return nodes, list(self._interactions.values()), triples

    def _get_nodes(self, label: NodeLabel, ids: list[str]) -> list[NodeRecord]:
        nodes = self._nodes[label]
        return [NodeRecord(i, nodes[i].text, nodes[i].name, dict(nodes[i].properties)) for i in ids]

    def _ref(self, key: NodeKey) -> NodeRef:
        ref = self._refs.get(key)
        if ref is None:
            ref = self._refs[key] = NodeRef(key[0], key[1], self._nodes[key[0]][key[1]].name)
        return ref

    def _neighbours(self, label: NodeLabel, node_id: str, relation: str | None) -> list[Neighbour]:
        return [
            Neighbour(link.relation, link.outgoing, self._ref(other))
            for link, other in self._edges.edges((label, node_id))
            if relation is None or link.relation == relation
        ]

    def _user_interactions(self, user_ids: list[str]) -> dict[str, list[Interaction]]:
        users = self._nodes[NodeLabel.USER]
        return {u: list(self._interactions.of_user(u).values()) for u in user_ids if u in users}

    def _played(self, splits: frozenset[str]) -> EdgeView:
        """``{node: {neighbour: links}}`` over the interactions of ``splits``."""

        def build() -> EdgeView:
            users, items = self._nodes[NodeLabel.USER], self._nodes[NodeLabel.ITEM]
            pairs = self._interactions.pairs(splits)
            return self._edges.pairs_view(INTERACTED, ((users[u].key, items[i].key) for u, i in pairs))

        return self._view(("played", splits), build)

    def _kg(self, relations: frozenset[str] | None) -> EdgeView:
        """``{node: {neighbour: links}}`` over the knowledge-graph edges (between items and
        entities) of ``relations`` (``None``: all); interactions and user attributes are the
        edges with a user end."""

        def build() -> EdgeView:
            wanted = self._edges.relations - {INTERACTED} if relations is None else relations
            return self._edges.view(wanted, lambda a, b: NodeLabel.USER not in (a[0], b[0]))

        return self._view(("kg", relations), build)

    def _user_attributes(self, relations: frozenset[str]) -> EdgeView:
        """``{node: {neighbour: links}}`` over the user attribute edges (user -> entity) of
        ``relations``."""
        return self._view(
            ("attributes", relations),
            lambda: self._edges.view(relations, lambda a, b: NodeLabel.USER in (a[0], b[0])),
        )

    def _view(self, name: tuple, build: Callable[[], EdgeView]) -> EdgeView:
        """The view ``name``, made by ``build`` once and cached until the next write."""
        with self._lock:
            view = self._views.get(name)
            if view is None:
                view = self._views[name] = build()
            return view

    def _paths(self, query: PathQuery) -> dict[str, list[GraphPath]]:
        """Meet in the middle: a path ``u - a - b - t`` exists for every ``b`` adjacent to both
        a first step ``a`` of the user and the target ``t`` (a set intersection); users ``b``
        come from the interactions, every other ``b`` from the knowledge graph, and for an
        attribute ``a`` (with ``query.attributes``), from the users who share it. A user
        ``b``'s path counts, as its ``support``, all the users in that intersection."""
        self._require(query.required())
        played = self._played(frozenset(query.splits))
        kg = self._kg(None if query.relations is None else frozenset(query.relations))
        empty: dict[NodeKey, tuple[Link, ...]] = {}
        user: NodeKey = (NodeLabel.USER, query.user)
        first = played.get(user, empty)
        peers = None if query.peers is None else [(NodeLabel.USER, p) for p in query.peers]
        attributes = None
        if query.attributes and query.max_hops == 3:
            attributes = self._user_attributes(frozenset(query.attributes))
        found = {}
        for item_id in query.items:
            t: NodeKey = (NodeLabel.ITEM, item_id)
            raw: list[_RawPath] = [((user, t), (e,), None) for e in first.get(t, ())]
            via = None if query.via is None else query.via[item_id]
            anchors = first if via is None else [a for a in first if a[1] in via]
            kg_t, played_t = kg.get(t, empty), played.get(t, empty)
            for a in anchors if query.max_hops > 1 else ():
                if a == t:
                    continue
                kg_a, played_a = kg.get(a, empty), played[a]
                middles = [b for b in kg_a.keys() & kg_t.keys() if b not in (a, t)]
                co_users = (played_a.keys() & played_t.keys()) - {user}
                if peers is None:
                    users = list(co_users)
                else:  # the first peer who played both, if any
                    best = next((b for b in peers if b in co_users), None)
                    users = [] if best is None else [best]
                for e1 in first[a]:
                    raw += [((user, a, t), (e1, e2), None) for e2 in kg_a.get(t, ())]
                    if query.max_hops < 3:
                        continue
                    raw += [
                        ((user, a, b, t), (e1, e2, e3), None)
                        for b in middles
                        for e2 in kg_a[b]
                        for e3 in kg[b][t]
                    ]
                    raw += [
                        ((user, a, b, t), (e1, e2, e3), len(co_users))
                        for b in users
                        for e2 in played_a[b]
                        for e3 in played[b][t]
                    ]
            if attributes is not None:
                raw += self._attribute_paths(user, t, attributes, played, peers)
            if len(raw) > query.limit:  # the caller sorts what is returned
                raw = sorted(raw, key=_raw_path_key)[: query.limit]
            found[item_id] = [
                GraphPath(
                    tuple(self._ref(n) for n in nodes),
                    tuple(e.relation for e in edges),
                    tuple(e.outgoing for e in edges),
                    support,
                )
                for nodes, edges, support in raw
            ]
        return found

    def _attribute_paths(
        self,
        user: NodeKey,
        t: NodeKey,
        attributes: EdgeView,
        played: EdgeView,
        peers: list[NodeKey] | None,
    ) -> list[_RawPath]:
        """The raw paths ``user -[r]-> a <-[r]- b -> t`` over ``attributes`` (user attribute
        edges) and ``played`` (interactions of the query's splits): every co-holder ``b`` of
        each of the user's attributes, or with ``peers`` the earliest-listed one per first
        hop; each with the number of those co-holders as its support."""
        played_t = played.get(t, {})
        raw = []
        for a, firsts in attributes.get(user, {}).items():
            holders = attributes[a]  # {b: links b -[r]-> a}
            for e1 in firsts:
                co_holders = {
                    b
                    for b in holders.keys() & played_t.keys()
                    if b != user and _same(holders, b, e1)
                }
                if peers is None:
                    users = list(co_holders)
                else:  # the first peer who shares this attribute and played t, if any
                    best = next((b for b in peers if b in co_holders), None)
                    users = [] if best is None else [best]
                raw += [
                    ((user, a, b, t), (e1, e2, e3), len(co_holders))
                    for b in users
                    for e2 in _same(holders, b, e1)
                    for e3 in played[b][t]
                ]
        return raw

    def _request_candidates(self, query: CandidateQuery) -> list[RequestCandidate]:
        self._require(query.referenced_ids())
        kg = self._kg(None if query.relations is None else frozenset(query.relations))
        return request_candidates(query, kg, self._kg(None), self._nodes[NodeLabel.ITEM])

    def _read_embeddings(
        self, label: NodeLabel, ids: list[str], property: str
    ) -> list[list[float] | None]:
        nodes = self._nodes[label]
        return [nodes[i].embeddings.get(property) for i in ids]
