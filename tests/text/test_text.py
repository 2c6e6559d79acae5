"""TextEncoder on the packaged all-MiniLM-L6-v2 weights, the content-hash cache, node vectors."""

from __future__ import annotations

import os

import pytest
import torch

from kgrec import MemoryGraphStore
from kgrec.text import EmbeddingCache, TextEncoder, content_hash, default_model_path, node_text_vectors

os.environ["HF_HUB_OFFLINE"] = "1"


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder(default_model_path(), batch_size=2)


class CountingEncoder:
    """A fake encoder that records what it was asked to encode."""

    fingerprint = "fake"
    dim = 3

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts):
        self.calls.append(list(texts))
        return torch.tensor([[len(t), 1.0, 0.0] for t in texts])


def test_unit_vectors_independent_of_batching(encoder):
    texts = ["a space opera", "a romantic comedy in Paris", "war film", "documentary"]
    vectors = encoder.encode(texts)
    assert vectors.shape == (4, 384)
    assert torch.allclose(vectors.norm(dim=1), torch.ones(4), atol=1e-5)
    one_by_one = torch.cat([encoder.encode([t]) for t in texts])
    assert torch.allclose(vectors, one_by_one, atol=1e-5)


def test_related_texts_are_closer(encoder):
    a, b, c = encoder.encode(["science fiction space movie", "film about astronauts", "tax law"])
    assert a @ b > a @ c


def test_cache_encodes_each_text_once_and_persists(tmp_path):
    fake = CountingEncoder()
    cache = EmbeddingCache(fake, tmp_path)
    first = cache.encode(["x", "yy", "x"])
    assert fake.calls == [["x", "yy"]]
    assert torch.equal(cache.encode(["yy", "x"]), first[[1, 0]])
    assert len(fake.calls) == 1
    reopened = EmbeddingCache(CountingEncoder(), tmp_path)
    assert torch.equal(reopened.encode(["x", "yy"]), first[:2])
    assert content_hash("a", "t") != content_hash("b", "t")


def test_node_vectors_fall_back_to_name_and_zero():
    store = MemoryGraphStore()
    store.upsert_nodes("user", [{"id": "u1"}])
    store.upsert_nodes("item", [{"id": "i1", "text": "abc"}, {"id": "i2", "name": "zz"}, {"id": "i3"}])
    vectors = node_text_vectors(store.snapshot(), CountingEncoder())
    assert vectors["user"] is None and vectors["entity"] is None
    assert vectors["item"].tolist() == [[3.0, 1.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
