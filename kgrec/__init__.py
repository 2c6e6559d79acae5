"""kgrec: explainable, knowledge-graph-centric recommendation.

The public API is small: the graph stores, the records they take, and (as they land) the
loaders, the trainer and the :class:`Recommender`.
"""

import logging

from kgrec.errors import (
    DataFormatError,
    InvalidNameError,
    InvalidValueError,
    KgrecError,
    UnknownIdError,
)
from kgrec.graph import (
    GraphStore,
    Interaction,
    MemoryGraphStore,
    Neo4jGraphStore,
    NodeLabel,
    NodeRecord,
    Snapshot,
    Triple,
)

logging.getLogger(__name__).addHandler(logging.NullHandler())

__version__ = "0.1.0"

__all__ = [
    "DataFormatError",
    "GraphStore",
    "Interaction",
    "InvalidNameError",
    "InvalidValueError",
    "KgrecError",
    "MemoryGraphStore",
    "Neo4jGraphStore",
    "NodeLabel",
    "NodeRecord",
    "Snapshot",
    "Triple",
    "UnknownIdError",
]
