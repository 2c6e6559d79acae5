"""The graph layer: schema rules, records, snapshots and the two interchangeable stores.

:class:`Neo4jGraphStore` is imported on first use (:mod:`kgrec._lazy`), so the embedded store
never loads the Neo4j driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kgrec._lazy import lazy_names
from kgrec.graph.candidate_query import CandidateQuery, RequestCandidate
from kgrec.graph.memory import MemoryGraphStore
from kgrec.graph.records import GraphPath, Interaction, Neighbour, NodeRecord, NodeRef, Triple
from kgrec.graph.schema import INTERACTED, NodeLabel
from kgrec.graph.snapshot import InteractionTable, Snapshot
from kgrec.graph.store import GraphStats, GraphStore

if TYPE_CHECKING:
    from kgrec.graph.neo4j_store import Neo4jGraphStore

__getattr__, __dir__ = lazy_names(__name__, {"Neo4jGraphStore": "kgrec.graph.neo4j_store"})

__all__ = [
    "CandidateQuery",
    "GraphPath",
    "GraphStats",
    "GraphStore",
    "INTERACTED",
    "Interaction",
    "InteractionTable",
    "MemoryGraphStore",
    "Neighbour",
    "Neo4jGraphStore",
    "NodeLabel",
    "NodeRecord",
    "NodeRef",
    "RequestCandidate",
    "Snapshot",
    "Triple",
]
