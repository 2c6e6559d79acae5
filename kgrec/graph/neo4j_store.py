"""The Neo4j store: the same :class:`~kgrec.graph.store.GraphStore` on a Neo4j 5 server.

Driver-first: pass a :class:`neo4j.Driver` you own, or use :meth:`Neo4jGraphStore.connect`.
Every query goes through ``driver.execute_query`` or ``session.execute_write``, i.e. a managed
transaction with the driver's retries on transient errors; each write batch is one transaction
of ``UNWIND $rows ... MERGE``. kgrec's nodes carry the labels of the store's
:class:`~kgrec.graph.schema.Namespace` (``KgrecUser``... by default), and no query touches a
node without them, so kgrec can share a database with other data.
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from typing import Any, Mapping, Sequence

import neo4j
import neo4j.exceptions
import numpy as np

from kgrec.errors import InvalidValueError, KgrecError
from kgrec.graph import candidate_cypher, cypher
from kgrec.graph.candidate_query import CandidateQuery, RequestCandidate
from kgrec.graph.records import GraphPath, Interaction, Neighbour, NodeRecord, NodeRef, Triple
from kgrec.graph.schema import (
    DEFAULT_NAMESPACE,
    RESERVED_PROPERTIES,
    Namespace,
    NodeLabel,
    schema_statements,
)
from kgrec.graph.neo4j_server import check_server_version, reaching
from kgrec.graph.neo4j_snapshot import SNAPSHOT_PAGE, export_snapshot
from kgrec.graph.snapshot import Snapshot
from kgrec.graph.path_query import PATH_COLUMNS, PathQuery, paths_of_rows
from kgrec.graph.store import GraphStats, GraphStore

log = logging.getLogger(__name__)
UNRECOGNIZED = neo4j.NotificationDisabledClassification.UNRECOGNIZED

#: Rows deleted per transaction by :meth:`Neo4jGraphStore.clear`.
CLEAR_BATCH = 10_000


class Neo4jGraphStore(GraphStore):
    """A :class:`~kgrec.graph.store.GraphStore` backed by Neo4j 5 (5.26 LTS tested, 5.24+
    required: checked on construction).

    Args:
        driver: an open driver; the store does not close it unless it created it.
        database: the database name (``None``: the server's default).
        namespace: the label prefix of kgrec's nodes and schema names (``"Kgrec"``:
            ``KgrecUser``, ``KgrecItem``, ``KgrecEntity``, constraint ``Kgrec_item_id``...;
            ``""``: plain ``User``/``Item``/``Entity``, for a database kgrec has to itself).
            Two stores with different namespaces share a database without seeing each other.
        apply_schema: apply ``graph_schema/schema.cypher`` (idempotent) on construction.
        uri: how error messages name the server (default: the driver's address).

    Attributes:
        server_version: the server's version, e.g. ``(5, 26, 30)``.
    """

    def __init__(
        self,
        driver: neo4j.Driver,
        database: str | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        apply_schema: bool = True,
        *,
        uri: str | None = None,
    ) -> None:
        self.driver = driver
        self.database = database
        self.namespace = Namespace(namespace)
        self.uri = uri if uri is not None else str(driver.address)
        self._owns_driver = False
        self.server_version = check_server_version(
            self._query(cypher.SERVER_VERSION, read=True)[0]["version"]
        )
        if apply_schema:
            self.apply_schema()

    @classmethod
    def connect(
        cls,
        uri: str,
        auth: tuple[str, str] | None = None,
        database: str | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        apply_schema: bool = True,
        connection_timeout: float = 5.0,
        connection_acquisition_timeout: float = 10.0,
        max_transaction_retry_time: float = 5.0,
        **driver_config: Any,
    ) -> "Neo4jGraphStore":
        """Open a driver to ``uri``, check connectivity, and return a store that owns it.

        The timeouts (seconds) are the driver's own settings, with defaults that make a call
        against a server that is down or unreachable raise
        :class:`~kgrec.errors.StoreUnavailableError` within about 10 s instead of the driver's
        30-60 s: ``connection_timeout`` for opening a socket, ``connection_acquisition_timeout``
        for getting a connection from the pool (opening included), and
        ``max_transaction_retry_time`` for retrying a transaction on transient errors (a lost
        connection, a deadlock between concurrent loads). ``driver_config`` goes to
        :func:`neo4j.GraphDatabase.driver` as is. Wrong credentials raise
        :class:`~kgrec.errors.StoreUnavailableError` too.
        """
        # optional properties (an interaction's kind, source) an older graph lacks: the
        # server's "property key does not exist" notice is expected, not news
        driver_config.setdefault("notifications_disabled_classifications", [UNRECOGNIZED])
        driver = neo4j.GraphDatabase.driver(
            uri, auth=auth, connection_timeout=connection_timeout,
            connection_acquisition_timeout=connection_acquisition_timeout,
            max_transaction_retry_time=max_transaction_retry_time, **driver_config,
        )
        try:
            with reaching(uri):
                driver.verify_connectivity()
            store = cls(driver, database, namespace, apply_schema, uri=uri)
        except BaseException:
            driver.close()
            raise
        store._owns_driver = True
        return store

    def close(self) -> None:
        if self._owns_driver:
            self.driver.close()

    def _query(self, query: str, read: bool = False, **params: Any) -> list[neo4j.Record]:
        with reaching(self.uri):
            records, _, _ = self.driver.execute_query(
                query,
                parameters_=params,
                database_=self.database,
                routing_=neo4j.RoutingControl.READ if read else neo4j.RoutingControl.WRITE,
            )
        return records

    def _write(
        self, statements: Sequence[tuple[str, Mapping[str, Any]]], **session_config: Any
    ) -> None:
        """Run ``statements`` (query, parameters) in one managed write transaction."""

        def run_all(tx: neo4j.ManagedTransaction) -> None:
            for query, params in statements:
                tx.run(query, params).consume()

        with reaching(self.uri), self.driver.session(
            database=self.database, **session_config
        ) as session:
            session.execute_write(run_all)

    def _render(self, template: str, **names: Any) -> str:
        return cypher.render(template, self.namespace, **names)

    # -- schema ---------------------------------------------------------------------------------
    def apply_schema(self) -> None:
        """Create the namespace's constraints and indexes of ``graph_schema/schema.cypher`` if
        absent (without the server's "already exists" notes on every later run)."""
        for statement in schema_statements(self.namespace):
            self._write([(statement, {})], notifications_min_severity="WARNING")

    def _vector_index_config(self, name: str) -> tuple[int, str] | None:
        records = self._query(
            cypher.SHOW_VECTOR_INDEX, read=True, name=self.namespace.schema_name(name)
        )
        if not records:
            return None
        config = records[0]["options"]["indexConfig"]
        return int(config["vector.dimensions"]), str(config["vector.similarity_function"]).lower()

    def _drop_vector_index(self, name: str) -> None:
        self._query(self._render(cypher.DROP_INDEX, name=self.namespace.schema_name(name)))

    def _create_vector_index(
        self, label: NodeLabel, name: str, dimensions: int, similarity: str, property: str
    ) -> None:
        query = self._render(
            cypher.CREATE_VECTOR_INDEX,
            label=label,
            name=self.namespace.schema_name(name),
            property=property,
        )
        self._query(query, dimensions=dimensions, similarity=similarity)
        self._query(cypher.AWAIT_INDEXES)

    def _query_vector_index(self, name: str, vector: list[float], k: int) -> list[tuple[str, float]]:
        index = self.namespace.schema_name(name)
        try:
            records = self._query(
                cypher.QUERY_VECTOR_INDEX, read=True, index=index, k=k, vector=vector
            )
        except neo4j.exceptions.ClientError:
            # The server's errors for these two are raw and differ between versions: say what
            # the embedded store says.
            config = self._vector_index_config(name)
            if config is None:
                raise KgrecError(
                    f"no vector index named {name!r}: call create_vector_index first"
                ) from None
            if config[0] != len(vector):
                raise InvalidValueError(
                    f"index {name!r} holds {config[0]}-d vectors, got {len(vector)}"
                ) from None
            raise
        return [(r["id"], r["score"]) for r in records]

    # -- writes ---------------------------------------------------------------------------------
    def _missing_ids(self, ids: Mapping[NodeLabel, list[str]]) -> dict[NodeLabel, list[str]]:
        query, params = cypher.missing_ids_query(ids, self.namespace)
        records = self._query(query, read=True, **params)
        return _missing(ids, [(r["label"], r["id"]) for r in records])

    def _write_nodes(self, label: NodeLabel, batch: Sequence[NodeRecord]) -> None:
        rows = []
        for r in batch:
            given = {k: v for k, v in (("text", r.text), ("name", r.name)) if v is not None}
            rows.append({"id": r.id, "properties": {**r.properties, **given}})
        self._query(self._render(cypher.UPSERT_NODES, label=label), rows=rows)

    def _write_interactions(self, batch: Sequence[Interaction]) -> None:
        rows = [
            {
                "user": r.user,
                "item": r.item,
                "rating": r.rating,
                "weight": r.weight,
                "timestamp": r.timestamp,
                "split": r.split,
                "kind": r.kind, "source": r.source,
            }
            for r in batch
        ]
        self._query(self._render(cypher.UPSERT_INTERACTIONS), rows=rows)

    def _write_triples(self, batch: Sequence[Triple]) -> None:
        groups: dict[tuple[NodeLabel, str, NodeLabel], list[dict[str, str]]] = defaultdict(list)
        for t in batch:
            groups[(t.head_label, t.relation, t.tail_label)].append({"head": t.head, "tail": t.tail})
        # One batch, one transaction, even when it spans several relationship types.
        self._write(
            [
                (
                    self._render(cypher.UPSERT_TRIPLES, head_label=h, relation=rel, tail_label=t),
                    {"rows": rows},
                )
                for (h, rel, t), rows in groups.items()
            ]
        )

    def _write_embeddings(
        self, label: NodeLabel, property: str, batch: Sequence[tuple[str, np.ndarray]]
    ) -> None:
        rows = [{"id": i, "vector": [float(x) for x in v]} for i, v in batch]
        self._query(self._render(cypher.WRITE_EMBEDDINGS, label=label, property=property), rows=rows)

    def clear(self, detach_foreign: bool = False) -> None:
        """Delete this namespace's nodes and their relationships, in batches of
        :data:`CLEAR_BATCH`; nothing else in the database (schema and indexes stay).

        A relationship between one of these nodes and a node outside the namespace was not
        written by kgrec: if there is any, nothing is deleted and :class:`KgrecError` says how
        many, unless ``detach_foreign=True`` (then they are deleted with the nodes)."""
        found = self._query(self._render(cypher.FOREIGN_LINKS), read=True)[0]
        if found["relationships"] and not detach_foreign:
            raise KgrecError(
                f"clear() refused: {found['nodes']:,} of kgrec's nodes "
                f"({', '.join(self.namespace.labels)}) have {found['relationships']:,} "
                "relationship(s) to other nodes, which kgrec did not write; nothing was deleted "
                "(pass detach_foreign=True to delete those relationships too)"
            )
        delete = "DETACH DELETE" if detach_foreign else "DELETE"
        queries = [
            self._render(cypher.DELETE_RELATIONSHIPS),
            self._render(cypher.DELETE_NODES, delete=delete),
        ]
        try:
            for query in queries:
                while self._query(query, batch=CLEAR_BATCH)[0]["deleted"]:
                    pass
        except neo4j.exceptions.ConstraintError as exc:  # DELETE of a node with a relationship
            raise KgrecError(
                "clear() stopped: another client linked a node outside the namespace to one of "
                "kgrec's nodes while they were being deleted; that node and relationship were "
                "kept. Run clear() again, or clear(detach_foreign=True)."
            ) from exc

    # -- reads ----------------------------------------------------------------------------------
    def snapshot(self, page_size: int = SNAPSHOT_PAGE) -> Snapshot:
        """The whole graph as a :class:`Snapshot`, read in keyset pages of ``page_size`` nodes,
        each its own read transaction (see :mod:`kgrec.graph.neo4j_snapshot`)."""
        read = functools.partial(self._query, read=True)
        return export_snapshot(read, self.namespace, page_size, self.progress_threshold)

    def stats(self) -> GraphStats:
        nodes = {
            label.value: self._query(self._render(cypher.COUNT_NODES, label=label), read=True)[0]["n"]
            for label in NodeLabel
        }
        rels = {
            r["type"]: r["n"]
            for r in self._query(self._render(cypher.COUNT_RELATIONSHIPS), read=True)
            if r["n"]
        }
        return GraphStats(nodes=nodes, relationships=dict(sorted(rels.items())))

    def _get_nodes(self, label: NodeLabel, ids: list[str]) -> list[NodeRecord]:
        records = self._query(self._render(cypher.GET_NODES, label=label), read=True, ids=ids)
        by_id = {}
        for r in records:
            props = {
                k: v
                for k, v in r["properties"].items()
                if k not in RESERVED_PROPERTIES and not k.startswith("embedding")
            }
            by_id[r["id"]] = NodeRecord(r["id"], r["text"], r["name"], props)
        return [by_id[i] for i in ids]

    def _user_interactions(self, user_ids: list[str]) -> dict[str, list[Interaction]]:
        records = self._query(self._render(cypher.USER_INTERACTIONS), read=True, ids=user_ids)
        return {r["user"]: [Interaction(r["user"], *row) for row in r["interactions"]] for r in records}

    def _neighbours(self, label: NodeLabel, node_id: str, relation: str | None) -> list[Neighbour]:
        records = self._query(
            self._render(cypher.NEIGHBOURS, label=label), read=True, id=node_id, relation=relation
        )
        return [
            Neighbour(r["relation"], r["outgoing"], NodeRef(NodeLabel.parse(r["label"]), r["id"], r["name"]))
            for r in records
        ]

    def _paths(self, query: PathQuery) -> dict[str, list[GraphPath]]:
        via = None if query.via is None else {i: sorted(a) for i, a in query.via.items()}
        required = query.required()
        check, check_params = cypher.missing_ids_query(required, self.namespace)
        paths = cypher.paths_query(
            query.max_hops,
            query.peers is not None,
            query.relations,
            bool(query.attributes),
            self.namespace,
        )
        records = self._query(
            cypher.CHECKED.format(check=check, statement=paths),
            read=True,
            **check_params,
            user=query.user,
            items=query.items,
            splits=query.splits,
            limit=query.limit,
            via=via,
            anchors=None if via is None else sorted(set().union(*query.via.values())),
            peers=None if query.peers is None else list(query.peers),
            attributes=list(query.attributes or ()),
        )
        self._raise_missing(_missing(required, records[0]["missing"]))
        return paths_of_rows(query.items, (r.values(*PATH_COLUMNS) for r in records))

    def _request_candidates(self, query: CandidateQuery) -> list[RequestCandidate]:
        referenced = query.referenced_ids()
        check, check_params = cypher.missing_ids_query(referenced, self.namespace)
        candidates = candidate_cypher.candidates_query(
            query.matching, bool(query.required), query.relations, self.namespace
        )
        statement = cypher.CHECKED.format(check=check, statement=candidates)
        records = self._query(statement, read=True, **check_params, **query.parameters())
        self._raise_missing(_missing(referenced, records[0]["missing"]))
        return [query.candidate_of_row(item, matches) for item, matches in records[0]["candidates"]]

    def _read_embeddings(
        self, label: NodeLabel, ids: list[str], property: str
    ) -> list[list[float] | None]:
        query = self._render(cypher.READ_EMBEDDINGS, label=label, property=property)
        return [r["vector"] for r in self._query(query, read=True, ids=ids)]


def _missing(
    ids: Mapping[NodeLabel, list[str]], absent: list[tuple[str, str]]
) -> dict[NodeLabel, list[str]]:
    """``ids`` per label, narrowed to the ``(label, id)`` pairs found ``absent``, in order."""
    found = {(label, i) for label, i in absent}
    return {label: [i for i in group if (label.value, i) in found] for label, group in ids.items()}
