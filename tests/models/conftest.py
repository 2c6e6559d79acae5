"""A tiny heterogeneous graph: 4 users, 6 items, 3 entities, two KG relations, item text."""

from __future__ import annotations

import pytest
import torch

from kgrec import MemoryGraphStore
from kgrec.models import training_graph


@pytest.fixture
def tiny_snapshot():
    store = MemoryGraphStore()
    store.upsert_nodes("user", [{"id": f"u{k}"} for k in range(4)])
    store.upsert_nodes("item", [{"id": f"i{k}", "text": f"item {k}"} for k in range(6)])
    store.upsert_nodes("entity", [{"id": f"e{k}"} for k in range(3)])
    store.upsert_interactions(
        [{"user": f"u{u}", "item": f"i{i}"} for u, i in [(0, 0), (0, 1), (1, 1), (1, 2), (2, 3), (3, 4), (3, 5)]]
    )
    store.upsert_triples(
        [{"head": f"i{i}", "relation": "has_genre", "tail": f"e{i % 3}", "head_label": "item"} for i in range(6)]
        + [{"head": "i0", "relation": "director", "tail": "e2", "head_label": "item"}]
    )
    return store.snapshot()


@pytest.fixture
def tiny_graph(tiny_snapshot):
    text = {"item": torch.randn(6, 8, generator=torch.Generator().manual_seed(0))}
    return training_graph(tiny_snapshot, text)
