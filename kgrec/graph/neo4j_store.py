"""The Neo4j store: the same :class:`~kgrec.graph.store.GraphStore` on a Neo4j 5 server.

Driver-first: pass a :class:`neo4j.Driver` you own, or use :meth:`Neo4jGraphStore.connect`.
Every query goes through ``driver.execute_query``, i.e. a managed transaction with the driver's
retries on transient errors; each write batch is one transaction of ``UNWIND $rows ... MERGE``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any, Mapping, Sequence

import neo4j
import numpy as np

from kgrec.graph import cypher
from kgrec.graph.cypher import render
from kgrec.graph.records import GraphPath, Interaction, Neighbour, NodeRecord, NodeRef, Triple
from kgrec.graph.schema import (
    INTERACTED,
    RESERVED_PROPERTIES,
    NodeLabel,
    schema_statements,
)
from kgrec.graph.snapshot import Snapshot
from kgrec.graph.store import GraphStats, GraphStore, PathQuery

log = logging.getLogger(__name__)

#: Columns of a path row (see :data:`~kgrec.graph.cypher.PATHS`).
PATH_COLUMNS = ("item_id", "nodes", "relations", "forward")


class Neo4jGraphStore(GraphStore):
    """A :class:`~kgrec.graph.store.GraphStore` backed by Neo4j 5 (5.26 LTS tested).

    Args:
        driver: an open driver; the store does not close it unless it created it.
        database: the database name (``None``: the server's default).
        apply_schema: apply ``graph_schema/schema.cypher`` (idempotent) on construction.
    """

    def __init__(
        self, driver: neo4j.Driver, database: str | None = None, apply_schema: bool = True
    ) -> None:
        self.driver = driver
        self.database = database
        self._owns_driver = False
        self._fresh: set[str] = set()
        if apply_schema:
            self.apply_schema()

    @classmethod
    def connect(
        cls,
        uri: str,
        auth: tuple[str, str] | None = None,
        database: str | None = None,
        apply_schema: bool = True,
    ) -> "Neo4jGraphStore":
        """Open a driver to ``uri``, check connectivity, and return a store that owns it."""
        driver = neo4j.GraphDatabase.driver(uri, auth=auth)
        try:
            driver.verify_connectivity()
            store = cls(driver, database, apply_schema)
        except Exception:
            driver.close()
            raise
        store._owns_driver = True
        return store

    def close(self) -> None:
        if self._owns_driver:
            self.driver.close()

    def _query(self, query: str, read: bool = False, **params: Any) -> list[neo4j.Record]:
        records, _, _ = self.driver.execute_query(
            query,
            parameters_=params,
            database_=self.database,
            routing_=neo4j.RoutingControl.READ if read else neo4j.RoutingControl.WRITE,
        )
        return records

    # -- schema ---------------------------------------------------------------------------------
    def apply_schema(self) -> None:
        """Create the constraints and indexes of ``graph_schema/schema.cypher`` if absent
        (without the server's "already exists" notes on every later run)."""
        with self.driver.session(database=self.database, notifications_min_severity="WARNING") as session:
            for statement in schema_statements():
                session.execute_write(lambda tx, q=statement: tx.run(q).consume())

    def _vector_index_config(self, name: str) -> tuple[int, str] | None:
        records = self._query(cypher.SHOW_VECTOR_INDEX, read=True, name=name)
        if not records:
            return None
        config = records[0]["options"]["indexConfig"]
        return int(config["vector.dimensions"]), str(config["vector.similarity_function"]).lower()

    def _drop_vector_index(self, name: str) -> None:
        self._query(render(cypher.DROP_INDEX, name=name))

    def _create_vector_index(
        self, label: NodeLabel, name: str, dimensions: int, similarity: str, property: str
    ) -> None:
        query = render(cypher.CREATE_VECTOR_INDEX, label=label, name=name, property=property)
        self._query(query, dimensions=dimensions, similarity=similarity)
        self._query(cypher.AWAIT_INDEXES)

    def _query_vector_index(self, name: str, vector: list[float], k: int) -> list[tuple[str, float]]:
        records = self._query(cypher.QUERY_VECTOR_INDEX, read=True, index=name, k=k, vector=vector)
        return [(r["id"], r["score"]) for r in records]

    # -- writes ---------------------------------------------------------------------------------
    def _missing_ids(self, ids: Mapping[NodeLabel, list[str]]) -> dict[NodeLabel, list[str]]:
        query, params = cypher.missing_ids_query(ids)
        records = self._query(query, read=True, **params)
        return _missing(ids, [(r["label"], r["id"]) for r in records])

    def _write_nodes(self, label: NodeLabel, batch: Sequence[NodeRecord]) -> None:
        rows = []
        for r in batch:
            given = {k: v for k, v in (("text", r.text), ("name", r.name)) if v is not None}
            rows.append({"id": r.id, "properties": {**r.properties, **given}})
        self._query(render(cypher.UPSERT_NODES, label=label), rows=rows)

    def _prepare_relationships(self, types: set[str]) -> None:
        """Types with no relationship yet are CREATEd for this call: far cheaper than MERGE,
        which checks every pair for an existing relationship. Assumes one writer at a time."""
        # A type never seen before draws an "unknown relationship type" warning: expected here.
        with self.driver.session(database=self.database, notifications_min_severity="OFF") as session:
            self._fresh = {
                t
                for t in types
                if session.run(render(cypher.COUNT_RELATIONSHIP_TYPE, relation=t)).single()["n"] == 0
            }

    def _write_mode(self, relation: str) -> str:
        return "CREATE" if relation in self._fresh else "MERGE"

    def _write_interactions(self, batch: Sequence[Interaction]) -> None:
        rows = [
            {
                "user": r.user,
                "item": r.item,
                "rating": r.rating,
                "weight": r.weight,
                "timestamp": r.timestamp,
                "split": r.split,
            }
            for r in batch
        ]
        query = render(cypher.UPSERT_INTERACTIONS, write=self._write_mode(INTERACTED))
        self._query(query, rows=rows)

    def _write_triples(self, batch: Sequence[Triple]) -> None:
        groups: dict[tuple[NodeLabel, str, NodeLabel], list[dict[str, str]]] = defaultdict(list)
        for t in batch:
            groups[(t.head_label, t.relation, t.tail_label)].append({"head": t.head, "tail": t.tail})
        queries = [
            (
                render(
                    cypher.UPSERT_TRIPLES,
                    head_label=h,
                    relation=rel,
                    tail_label=t,
                    write=self._write_mode(rel),
                ),
                rows,
            )
            for (h, rel, t), rows in groups.items()
        ]

        def write_all(tx: neo4j.ManagedTransaction) -> None:
            for query, rows in queries:
                tx.run(query, rows=rows).consume()

        # One batch, one transaction, even when it spans several relationship types.
        with self.driver.session(database=self.database) as session:
            session.execute_write(write_all)

    def _write_embeddings(
        self, label: NodeLabel, property: str, batch: Sequence[tuple[str, np.ndarray]]
    ) -> None:
        rows = [{"id": i, "vector": [float(x) for x in v]} for i, v in batch]
        self._query(render(cypher.WRITE_EMBEDDINGS, label=label, property=property), rows=rows)

    def clear(self) -> None:
        while self._query(cypher.DELETE_BATCH, batch=10_000)[0]["deleted"]:
            pass

    # -- reads ----------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        nodes = {
            label.key: [
                (r["id"], r["text"], r["name"])
                for r in self._query(render(cypher.SNAPSHOT_NODES, label=label), read=True)
            ]
            for label in NodeLabel
        }
        interactions = [
            (r["user"], r["item"], r["rating"], r["weight"], r["timestamp"], r["split"])
            for r in self._query(cypher.SNAPSHOT_INTERACTIONS, read=True)
        ]
        triples = [
            (
                NodeLabel.parse(r["head_label"]).key,
                r["head"],
                r["relation"],
                NodeLabel.parse(r["tail_label"]).key,
                r["tail"],
            )
            for r in self._query(cypher.SNAPSHOT_TRIPLES, read=True)
        ]
        return Snapshot.build(nodes, interactions, triples)

    def stats(self) -> GraphStats:
        nodes = {
            label.value: self._query(render(cypher.COUNT_NODES, label=label), read=True)[0]["n"]
            for label in NodeLabel
        }
        rels = {r["type"]: r["n"] for r in self._query(cypher.COUNT_RELATIONSHIPS, read=True)}
        return GraphStats(nodes=nodes, relationships=dict(sorted(rels.items())))

    def _get_nodes(self, label: NodeLabel, ids: list[str]) -> list[NodeRecord]:
        records = self._query(render(cypher.GET_NODES, label=label), read=True, ids=ids)
        by_id = {}
        for r in records:
            props = {
                k: v
                for k, v in r["properties"].items()
                if k not in RESERVED_PROPERTIES and not k.startswith("embedding")
            }
            by_id[r["id"]] = NodeRecord(r["id"], r["text"], r["name"], props)
        return [by_id[i] for i in ids]

    def _neighbours(self, label: NodeLabel, node_id: str, relation: str | None) -> list[Neighbour]:
        records = self._query(
            render(cypher.NEIGHBOURS, label=label), read=True, id=node_id, relation=relation
        )
        return [
            Neighbour(r["relation"], r["outgoing"], NodeRef(NodeLabel.parse(r["label"]), r["id"], r["name"]))
            for r in records
        ]

    def _paths(self, query: PathQuery) -> dict[str, list[GraphPath]]:
        via = None if query.via is None else {i: sorted(a) for i, a in query.via.items()}
        required = query.required()
        check, check_params = cypher.missing_ids_query(required)
        paths = cypher.paths_query(query.max_hops, query.peers is not None, query.relations)
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
        )
        self._raise_missing(_missing(required, records[0]["missing"]))
        found: dict[str, list[GraphPath]] = {i: [] for i in query.items}
        refs: dict[tuple[str, str, str | None], NodeRef] = {}  # one NodeRef per node
        for r in records:
            item_id, nodes, relations, forward = r.values(*PATH_COLUMNS)
            if item_id is None:  # nothing missing, no path at all
                continue
            path_nodes = []
            for key in map(tuple, nodes):
                ref = refs.get(key)
                if ref is None:
                    ref = refs[key] = NodeRef(NodeLabel.parse(key[0]), key[1], key[2])
                path_nodes.append(ref)
            found[item_id].append(GraphPath(tuple(path_nodes), tuple(relations), tuple(forward)))
        return found

    def _read_embeddings(
        self, label: NodeLabel, ids: list[str], property: str
    ) -> list[list[float] | None]:
        query = render(cypher.READ_EMBEDDINGS, label=label, property=property)
        return [r["vector"] for r in self._query(query, read=True, ids=ids)]


def _missing(
    ids: Mapping[NodeLabel, list[str]], absent: list[tuple[str, str]]
) -> dict[NodeLabel, list[str]]:
    """``ids`` per label, narrowed to the ``(label, id)`` pairs found ``absent``, in order."""
    found = {(label, i) for label, i in absent}
    return {label: [i for i in group if (label.value, i) in found] for label, group in ids.items()}
