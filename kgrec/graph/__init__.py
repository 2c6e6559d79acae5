"""The graph layer: schema rules, records, snapshots and the two interchangeable stores."""

from kgrec.graph.candidate_query import CandidateQuery, RequestCandidate
from kgrec.graph.memory import MemoryGraphStore
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.graph.records import GraphPath, Interaction, Neighbour, NodeRecord, NodeRef, Triple
from kgrec.graph.schema import INTERACTED, NodeLabel
from kgrec.graph.snapshot import InteractionTable, Snapshot
from kgrec.graph.store import GraphStats, GraphStore

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
