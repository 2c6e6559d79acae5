"""kgrec: explainable, knowledge-graph-centric recommendation.

The public API is small: the graph stores and the records they take, the loaders
(``kgrec.loaders``), the :class:`Trainer` and the :class:`Recommender`.

``import kgrec`` loads neither the Neo4j driver nor PyTorch Geometric (which imports part of
transformers): :class:`Neo4jGraphStore`, :class:`Recommender`, :class:`Trainer` and
:class:`TrainConfig` are imported on first use (:mod:`kgrec._lazy`); transformers' models load
only when text is encoded.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

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
from kgrec._lazy import lazy_names
from kgrec.graph import (
    GraphStore,
    Interaction,
    MemoryGraphStore,
    NodeLabel,
    NodeRecord,
    Snapshot,
    Triple,
)

if TYPE_CHECKING:
    from kgrec.graph.neo4j_store import Neo4jGraphStore
    from kgrec.recommender import Recommender
    from kgrec.train import TrainConfig, Trainer

__getattr__, __dir__ = lazy_names(
    __name__,
    {
        "Neo4jGraphStore": "kgrec.graph.neo4j_store",
        "Recommender": "kgrec.recommender",
        "TrainConfig": "kgrec.train",
        "Trainer": "kgrec.train",
    },
)

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

