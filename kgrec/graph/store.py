"""The :class:`GraphStore` contract shared by the embedded and the Neo4j store.

The base class validates every input once (types, finiteness, names, referenced ids) *before*
anything is written, then hands clean batches to the subclass. Subclasses implement storage
only: ``_write_*``, ``_missing_ids`` and the queries.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, Collection, Iterable, Mapping, Sequence

import numpy as np
from tqdm.auto import tqdm

from kgrec.checks import id_strings, int_in_range
from kgrec.errors import InvalidValueError, UnknownIdError
from kgrec.graph.batches import T, as_record, batched, dedupe, gc_paused
from kgrec.graph.candidate_query import CandidateQuery, RequestCandidate
from kgrec.graph.path_query import PathQuery
from kgrec.graph.records import GraphPath, Interaction, Neighbour, NodeRecord, Triple
from kgrec.graph.schema import (
    VECTOR_SIMILARITIES,
    NodeLabel,
    validate_embedding_property,
    validate_name,
    vector_index_name,
)
from kgrec.graph.snapshot import Snapshot

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 5_000


@dataclass(frozen=True, slots=True)
class GraphStats:
    """Node counts per label and relationship counts per type."""

    nodes: dict[str, int]
    relationships: dict[str, int]


class GraphStore(ABC):
    """Users, items, entities, their interactions and knowledge-graph triples.

    Writes are upserts keyed by ``(label, id)``, ``(user, item)`` and ``(head, relation, tail)``:
    loading the same rows twice changes nothing. Each batch is one transaction.
    """

    #: Progress bars are shown for loads of at least this many rows.
    progress_threshold = 20_000

    # -- writes ---------------------------------------------------------------------------------
    def upsert_nodes(
        self,
        label: str | NodeLabel,
        records: Iterable[NodeRecord | Mapping[str, Any]],
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> int:
        """Create or update nodes of ``label``; returns the number of distinct ids written."""
        label = NodeLabel.parse(label)
        with gc_paused():
            rows = dedupe([as_record(r, NodeRecord).validated() for r in records], lambda r: r.id)
            self._run_batches(
                f"{label.value} nodes", rows, batch_size, lambda b: self._write_nodes(label, b)
            )
        return len(rows)

    def upsert_interactions(
        self,
        interactions: Iterable[Interaction | Mapping[str, Any]],
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> int:
        """Create or update user -> item interactions; every user and item must exist."""
        with gc_paused():
            rows = dedupe(
                [as_record(r, Interaction).validated() for r in interactions],
                lambda r: (r.user, r.item),
            )
            self._require(
                {NodeLabel.USER: {r.user for r in rows}, NodeLabel.ITEM: {r.item for r in rows}}
            )
            self._run_batches("interactions", rows, batch_size, self._write_interactions)
        return len(rows)

    def upsert_triples(
        self,
        triples: Iterable[Triple | Mapping[str, Any]],
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> int:
        """Create knowledge-graph edges and user attributes (see :class:`Triple`); every head
        and tail must exist."""
        with gc_paused():
            rows = dedupe(
                [as_record(r, Triple).validated() for r in triples],
                lambda t: (t.head_label, t.head, t.relation, t.tail_label, t.tail),
            )
            self._require(
                {
                    label: {t.head for t in rows if t.head_label is label}
                    | {t.tail for t in rows if t.tail_label is label}
                    for label in NodeLabel
                }
            )
            self._run_batches("triples", rows, batch_size, self._write_triples)
        return len(rows)

    def write_embeddings(
        self,
        label: str | NodeLabel,
        ids: Sequence[str],
        vectors: np.ndarray,
        property: str = "embedding",
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        """Store row ``k`` of the ``[N, d]`` float array ``vectors`` on node ``ids[k]``."""
        label = NodeLabel.parse(label)
        validate_embedding_property(property)
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(ids):
            raise InvalidValueError(
                f"vectors must have shape [{len(ids)}, d], got {list(vectors.shape)}"
            )
        if not np.isfinite(vectors).all():
            raise InvalidValueError("embedding vectors must be finite")
        self._require({label: ids})
        rows = list(zip(ids, vectors))
        self._run_batches(
            f"{label.value} embeddings",
            rows,
            batch_size,
            lambda b: self._write_embeddings(label, property, b),
        )

    # -- vector search --------------------------------------------------------------------------
    def create_vector_index(
        self,
        label: str | NodeLabel,
        dimensions: int,
        similarity: str = "cosine",
        property: str = "embedding",
        replace: bool = False,
    ) -> str:
        """Create (if absent) a vector index on ``label.property``; returns its name. Neo4j
        builds an approximate (HNSW) index; the embedded store searches exactly. An existing
        index of another dimension or similarity is an error, or is dropped and rebuilt with
        ``replace=True``."""
        label = NodeLabel.parse(label)
        validate_embedding_property(property)
        int_in_range(dimensions, "dimensions")
        if similarity not in VECTOR_SIMILARITIES:
            raise InvalidValueError(f"similarity must be one of {VECTOR_SIMILARITIES}, got {similarity!r}")
        name = vector_index_name(label, property)
        existing = self._vector_index_config(name)
        if existing is not None and existing != (dimensions, similarity):
            if not replace:
                raise InvalidValueError(
                    f"vector index {name!r} exists with (dimensions, similarity) {existing}, "
                    f"not {(dimensions, similarity)}: pass replace=True to rebuild it"
                )
            self._drop_vector_index(name)
        self._create_vector_index(label, name, dimensions, similarity, property)
        return name

    def query_vector_index(
        self, label: str | NodeLabel, vector: np.ndarray, k: int, property: str = "embedding"
    ) -> list[tuple[str, float]]:
        """The ``k`` ``label`` nodes nearest to ``vector`` in the index on ``label.property`` as
        ``(id, score)``, best first; scores follow Neo4j: ``(1 + cos) / 2`` for cosine, ``1 / (1 + d^2)`` for euclidean."""
        int_in_range(k, "k")
        values = np.asarray(vector, dtype=np.float64).ravel()
        if not np.isfinite(values).all():
            raise InvalidValueError("query vector must be finite")
        return self._query_vector_index(vector_index_name(label, property), values.tolist(), k)

    @abstractmethod
    def _vector_index_config(self, name: str) -> tuple[int, str] | None:
        """``(dimensions, similarity)`` of the vector index ``name``, or ``None``."""

    @abstractmethod
    def _drop_vector_index(self, name: str) -> None: ...

    @abstractmethod
    def _create_vector_index(
        self, label: NodeLabel, name: str, dimensions: int, similarity: str, property: str
    ) -> None: ...

    @abstractmethod
    def _query_vector_index(self, name: str, vector: list[float], k: int) -> list[tuple[str, float]]: ...

    def _require(self, ids: Mapping[NodeLabel, Collection[str]]) -> None:
        """Raise :class:`UnknownIdError` unless every id exists under its label (one lookup
        for all labels)."""
        wanted = {label: sorted(set(group)) for label, group in ids.items() if group}
        self._raise_missing(self._missing_ids(wanted) if wanted else {})

    def _run_batches(
        self, what: str, rows: Sequence[T], batch_size: int, write: Callable[[Sequence[T]], None]
    ) -> None:
        batches = batched(rows, batch_size)
        show = len(rows) >= self.progress_threshold
        with tqdm(total=len(rows), desc=f"writing {what}", unit="row", disable=not show) as bar:
            for batch in batches:
                write(batch)
                bar.update(len(batch))
        log.debug("wrote %d %s", len(rows), what)

    # -- storage, implemented by each store -----------------------------------------------------
    @abstractmethod
    def _missing_ids(self, ids: Mapping[NodeLabel, list[str]]) -> dict[NodeLabel, list[str]]:
        """Per label, the subset of its ``ids`` with no node of that label, in the given order."""

    @abstractmethod
    def _write_nodes(self, label: NodeLabel, batch: Sequence[NodeRecord]) -> None: ...

    @abstractmethod
    def _write_interactions(self, batch: Sequence[Interaction]) -> None: ...

    @abstractmethod
    def _write_triples(self, batch: Sequence[Triple]) -> None: ...

    @abstractmethod
    def _write_embeddings(
        self, label: NodeLabel, property: str, batch: Sequence[tuple[str, np.ndarray]]
    ) -> None: ...

    # -- reads ----------------------------------------------------------------------------------
    @abstractmethod
    def snapshot(self) -> Snapshot:
        """The whole graph as a :class:`Snapshot` (all splits of interactions)."""

    @abstractmethod
    def stats(self) -> GraphStats:
        """Node counts per label and relationship counts per type."""

    def get_nodes(self, label: str | NodeLabel, ids: Sequence[str]) -> list[NodeRecord]:
        """The stored records of ``ids``, in order; raises :class:`UnknownIdError` on a miss."""
        label = NodeLabel.parse(label)
        self._require({label: ids})
        return self._get_nodes(label, list(ids))

    def user_interactions(self, user_ids: Sequence[str]) -> dict[str, list[Interaction]]:
        """``{user id: that user's interactions}`` (every split, feedback included), each list
        sorted by item id, read in one store call (one round trip on Neo4j); raises
        :class:`UnknownIdError` for an unknown user."""
        user_ids = id_strings(user_ids, "user_ids")
        found = self._user_interactions(sorted(set(user_ids)))
        self._raise_missing({NodeLabel.USER: [u for u in dict.fromkeys(user_ids) if u not in found]})
        return {u: sorted(found[u], key=lambda r: r.item) for u in user_ids}

    def neighbours(
        self, label: str | NodeLabel, node_id: str, relation: str | None = None
    ) -> list[Neighbour]:
        """Nodes adjacent to ``(label, node_id)`` in either direction, optionally over one
        relation only, sorted by :meth:`Neighbour.sort_key`. Interactions of every split count."""
        label = NodeLabel.parse(label)
        if relation is not None:
            validate_name(relation, "relation name")
        self._require({label: [node_id]})
        return sorted(self._neighbours(label, node_id, relation), key=Neighbour.sort_key)

    def paths(
        self,
        user_id: str,
        item_ids: Sequence[str],
        max_hops: int = 3,
        limit: int = 100,
        splits: Sequence[str] = ("train",),
        via: Mapping[str, Collection[str]] | None = None,
        peers: Sequence[str] | None = None,
        relations: Collection[str] | None = None,
        attributes: Collection[str] | None = None,
    ) -> dict[str, list[GraphPath]]:
        """For each item, the simple paths of at most ``max_hops`` relationships from the user
        to it, over knowledge-graph relations in either direction and interactions of
        ``splits``; each list sorted by :meth:`GraphPath.sort_key` and cut to ``limit``.

        ``via`` restricts the paths of an item to those whose first step reaches one of the
        given items (e.g. the liked items a model relies on); items it does not name keep only
        the direct path. Without ``attributes``, every longer path starts ``user -> liked
        item``.

        ``peers`` (user ids, most relevant first) restricts the paths through another user
        ``user -> a <- peer -> item`` to those peers, and keeps one such path per first step
        ``a`` and item: the one through the earliest-listed peer who interacted with both. A
        popular pair of items shares hundreds of users; a ranking that prefers users similar
        to ``user`` needs only its best one, and the query stays small.

        A path through another user (co-user or attribute path) carries, as
        :attr:`GraphPath.support`, the number of users who make the same reason true, peers or
        not (see :class:`GraphPath`), computed in the same call (one Cypher round trip on
        Neo4j); without ``peers`` each of them has its path, all with that support.

        ``relations`` restricts the knowledge-graph hops to those relation types (e.g. the
        ones a model reasons over); a store can then skip the interactions of the items on
        the way, which are most of their relationships.

        ``attributes`` (user attribute relation types, e.g. ``has_occupation``) adds the paths
        of exactly three hops ``user -[attr]-> entity <-[same attr]- peer -[INTERACTED]->
        item`` (``max_hops=3`` only): other users who share an attribute with the user and
        interacted with the item, in ``splits``. They explain items to a user without
        interactions. ``peers`` restricts their middle user the same way (one path per first
        hop and item, through the earliest-listed peer); ``via`` and ``relations`` do not
        apply to them. They sort before the three-hop paths through a liked item
        (``"Entity" < "Item"`` in :meth:`GraphPath.sort_key`), so ``limit`` cuts those first.
        """
        query = PathQuery.checked(
            user_id, item_ids, max_hops, limit, splits, via, peers, relations, attributes
        )
        found = self._paths(query)
        return {i: sorted(found[i], key=GraphPath.sort_key)[:limit] for i in item_ids}

    def request_candidates(self, query: CandidateQuery) -> list[RequestCandidate]:
        """The items a conversational request narrows the graph to (semantics:
        :mod:`kgrec.graph.candidate_query`), sorted by :meth:`RequestCandidate.sort_key` and cut
        to ``query.limit``; raises :class:`UnknownIdError` for ids not in the graph."""
        query = CandidateQuery.of(query)
        found = self._request_candidates(query)
        return sorted(found, key=RequestCandidate.sort_key)[: query.limit]

    def _raise_missing(self, missing: Mapping[NodeLabel, list[str]]) -> None:
        """Raise :class:`UnknownIdError` for the first label with missing ids, if any."""
        for label, absent in missing.items():
            if absent:
                raise UnknownIdError(label.value, absent)

    def read_embeddings(
        self, label: str | NodeLabel, ids: Sequence[str], property: str = "embedding"
    ) -> np.ndarray:
        """The ``[len(ids), d]`` float32 embeddings of ``ids``; raises if a node or its
        embedding is missing."""
        label = NodeLabel.parse(label)
        validate_embedding_property(property)
        self._require({label: ids})
        vectors = self._read_embeddings(label, list(ids), property)
        absent = [i for i, v in zip(ids, vectors) if v is None]
        if absent:
            raise UnknownIdError(f"{label.value} with {property!r}", absent)
        return np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1)

    # -- queries, implemented by each store (arguments already checked) -------------------------
    @abstractmethod
    def _get_nodes(self, label: NodeLabel, ids: list[str]) -> list[NodeRecord]: ...

    @abstractmethod
    def _neighbours(
        self, label: NodeLabel, node_id: str, relation: str | None
    ) -> list[Neighbour]: ...

    @abstractmethod
    def _user_interactions(self, user_ids: list[str]) -> dict[str, list[Interaction]]:
        """The interactions of each of ``user_ids`` that exists as a user (no key for the
        others), in any order."""

    @abstractmethod
    def _paths(self, query: PathQuery) -> dict[str, list[GraphPath]]:
        """Paths per item, in any order; the caller sorts and cuts. A store may cut early to
        ``limit`` only when it cuts in :meth:`GraphPath.sort_key` order. Raises
        :class:`UnknownIdError` for the ids of :meth:`PathQuery.required` that do not exist
        (checked here, so that a server can check them in the same round trip)."""

    @abstractmethod
    def _request_candidates(self, query: CandidateQuery) -> list[RequestCandidate]:
        """Candidates in any order, at least the first ``limit`` in sort order; raises like
        :meth:`_paths`, for :meth:`CandidateQuery.referenced_ids`."""

    @abstractmethod
    def _read_embeddings(
        self, label: NodeLabel, ids: list[str], property: str
    ) -> list[list[float] | None]: ...

    @abstractmethod
    def clear(self) -> None:
        """Delete the users, items and entities this store holds, with their interactions and
        knowledge-graph relationships; schema and indexes stay. The embedded store empties
        itself. :class:`~kgrec.graph.neo4j_store.Neo4jGraphStore` deletes only the nodes with
        its namespace's labels (never another application's nodes), and refuses, deleting
        nothing, while any of them has a relationship to a node outside the namespace unless
        called with ``detach_foreign=True``."""

    def sync(self) -> None:
        """See the writes other processes made since the last call. A no-op here and on Neo4j
        (every query reads the server); an embedded store opened on a folder replays its
        journal (:meth:`MemoryGraphStore.open <kgrec.graph.memory.MemoryGraphStore.open>`)."""

    def close(self) -> None:
        """Release resources. The embedded store has none."""

    def __enter__(self) -> "GraphStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

