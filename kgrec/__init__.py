"""kgrec: explainable, knowledge-graph-centric recommendation.

The public API is small: the graph stores and the records they take, the loaders
(``kgrec.loaders``), the :class:`Trainer` and the :class:`Recommender`.
"""

import logging

from kgrec.errors import (
    DataFormatError,
    InvalidNameError,
    InvalidValueError,
    KgrecError,
    UnknownIdError,
)
from kgrec import loaders
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

from kgrec.recommender import Recommender
from kgrec.train import TrainConfig, Trainer

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
    "Recommender",
    "Snapshot",
    "TrainConfig",
    "Trainer",
    "Triple",
    "UnknownIdError",
    "loaders",
]
