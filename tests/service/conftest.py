"""A small trained model saved as a checkpoint, and the service over it on the embedded store.

The graph is the cold-start tests' 24 films in two genres (``tests/cold_start/conftest.py``);
the model reads the packaged all-MiniLM-L6-v2 text vectors, so the service's cold-start
endpoints encode new text with the checkpoint's own encoder (``text_model="default"``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kgrec import GraphStore, MemoryGraphStore, Recommender
from kgrec.models import KGRecModel, training_graph
from kgrec.service import Settings, create_app
from kgrec.text import TextEncoder, node_text_vectors
from kgrec.train import Trainer, TrainConfig, seed_everything
from tests.cold_start.conftest import load_films

#: The write key the tests configure, and a read key for READS_KEYED.
KEY = "test-key-0123456789"
OTHER_KEY = "second-key-abcdef"


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory) -> Path:
    store = MemoryGraphStore()
    load_films(store)
    snapshot = store.snapshot()
    seed_everything(0)
    model = KGRecModel(training_graph(snapshot, node_text_vectors(snapshot, TextEncoder())), channels=16, feature_mode="text")
    config = TrainConfig(loss="softmax", num_negatives=8, batch_size=64, lr=1e-2, epochs=30, patience=30, progress=False)
    Trainer(model, snapshot, config).fit()
    folder = tmp_path_factory.mktemp("service") / "checkpoint"
    Recommender(model, store, snapshot).save(folder, text_model="default")
    return folder


@pytest.fixture
def graph(tmp_path) -> Path:
    """A folder holding the films as an embedded store."""
    folder = tmp_path / "graph"
    store = MemoryGraphStore.open(folder)
    load_films(store)
    store.close()
    return folder


@pytest.fixture
def service(checkpoint, graph) -> Iterator[Callable[..., TestClient]]:
    """``service(**settings)``: a started test client of the service on a fresh embedded store
    holding the films (``graph``), configured with ``KEY`` and ``settings``."""
    clients = []

    def start(**settings) -> TestClient:
        defaults = {"store": "memory", "graph": graph, "checkpoint": checkpoint, "api_keys": KEY}
        client = TestClient(create_app(Settings(**{**defaults, **settings})), raise_server_exceptions=False)
        clients.append(client.__enter__())
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def stored_items(store: GraphStore, user: str) -> set[str]:
    """The items ``user`` interacted with in the store (any split)."""
    snapshot = store.snapshot()
    interactions = snapshot.interactions
    row = snapshot.index_of("user", [user])[0]
    items = snapshot.node_ids["item"]
    return {items[i] for u, i in zip(interactions.user.tolist(), interactions.item.tolist()) if u == row}
