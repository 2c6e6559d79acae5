"""The scale benchmarks' generated graph: seeded, skewed as documented, and its direct snapshot
is the one a store holding it gives (benchmarks/scale.py times training on the direct one)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

from kgrec import MemoryGraphStore

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "_generated.py"
_SPEC = importlib.util.spec_from_file_location("_generated", _PATH)
generated = importlib.util.module_from_spec(_SPEC)
sys.modules["_generated"] = generated
_SPEC.loader.exec_module(generated)


def test_same_seed_same_graph_and_distinct_pairs():
    a = generated.GeneratedGraph.generate(20_000, seed=3)
    b = generated.GeneratedGraph.generate(20_000, seed=3)
    assert a.num_interactions == 20_000
    assert all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("user", "item", "split", "head", "tail"))
    codes = a.user * a.num_items + a.item
    assert np.unique(codes).size == codes.size
    assert not np.array_equal(a.item, generated.GeneratedGraph.generate(20_000, seed=4).item)


def test_activity_and_popularity_are_skewed():
    g = generated.GeneratedGraph.generate(50_000, seed=0)
    for degree in (np.bincount(g.user), np.bincount(g.item)):
        top = np.sort(degree)[::-1]
        # a power law: the top 1% of nodes hold far more than 1% of the interactions
        assert top[: max(len(top) // 100, 1)].sum() > 0.1 * degree.sum()
        assert np.median(degree) < degree.mean()


def test_direct_snapshot_equals_the_store_snapshot():
    g = generated.GeneratedGraph.generate(5_000, seed=1)
    store = MemoryGraphStore()
    g.load(store, chunk=1_000, progress=False)
    assert store.snapshot().equals(g.snapshot())
