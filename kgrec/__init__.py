"""kgrec: explainable, knowledge-graph-centric recommendation.

The public API is small: the graph stores and the records they take, the loaders
(``kgrec.loaders``), the :class:`Trainer` and the :class:`Recommender`.
"""

import logging

from kgrec.errors import (
    CheckpointError,
    DataFileNotFoundError,
    DataFormatError,
    InvalidNameError,
    InvalidValueError,
    KgrecError,
    StoreUnavailableError,
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

#: The package version, written only here: pyproject.toml reads it at build time.
__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "DataFileNotFoundError",
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
    "StoreUnavailableError",
    "TrainConfig",
    "Trainer",
    "Triple",
    "UnknownIdError",
    "loaders",
]
