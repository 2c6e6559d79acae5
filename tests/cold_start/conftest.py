"""Two genres of films, users who like one genre each, and a KGRecModel trained on them."""

from __future__ import annotations

import hashlib
import random
from typing import Sequence

import pytest
import torch

from kgrec import GraphStore, Interaction, MemoryGraphStore, NodeLabel, NodeRecord, Triple
from kgrec.models import KGRecModel, training_graph
from kgrec.text import node_text_vectors
from kgrec.train import Trainer, TrainConfig, seed_everything

GENRES = {"scifi": "space alien robot future", "drama": "family love grief village"}
ITEMS = {g: [f"{g[0]}{k}" for k in range(12)] for g in GENRES}


class WordEncoder:
    """A deterministic stand-in for a sentence encoder: the normalized sum of one fixed random
    vector per word, so texts sharing words get close vectors."""

    dim = 16

    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        rows = []
        for text in texts:
            vector = torch.zeros(self.dim)
            for word in text.lower().split():
                seed = int(hashlib.sha256(word.encode()).hexdigest()[:8], 16)
                vector += torch.randn(self.dim, generator=torch.Generator().manual_seed(seed))
            rows.append(torch.nn.functional.normalize(vector, dim=0))
        return torch.stack(rows)


def load_films(store: GraphStore) -> None:
    """24 films in two genres (``s0..s11``, ``d0..d11``), each with a genre and one of two
    directors per genre; users ``s_u0..s_u9`` like sci-fi films, ``d_u0..d_u9`` dramas."""
    rng = random.Random(0)
    store.upsert_nodes(
        "Entity",
        [NodeRecord(g, name=g.title()) for g in GENRES]
        + [NodeRecord(f"dir_{g}{k}", name=f"Director {g}{k}") for g in GENRES for k in range(2)],
    )
    store.upsert_nodes(
        "Item",
        [
            NodeRecord(i, f"{words} film {i}", f"Film {i}")
            for g, words in GENRES.items()
            for i in ITEMS[g]
        ],
    )
    store.upsert_triples(
        [Triple(i, "has_genre", g, NodeLabel.ITEM) for g in GENRES for i in ITEMS[g]]
        + [Triple(i, "director", f"dir_{g}{k % 2}", NodeLabel.ITEM) for g in GENRES for k, i in enumerate(ITEMS[g])]
    )
    users = [(f"{g[0]}_u{k}", g) for g in GENRES for k in range(10)]
    store.upsert_nodes("User", [NodeRecord(u, f"a fan of {g}") for u, g in users])
    rows = []
    for user, g in users:
        liked = rng.sample(ITEMS[g], 6)
        rows += [Interaction(user, i, split="valid" if k == 0 else "train") for k, i in enumerate(liked)]
    store.upsert_interactions(rows)


@pytest.fixture(scope="session")
def trained_model() -> KGRecModel:
    """Text features only (``feature_mode="text"``): a new node's layer-0 feature is then
    exactly what training saw for every node. A fused model trained without id dropout has
    never seen a node without its id term (see the cold-start notes in the report)."""
    store = MemoryGraphStore()
    load_films(store)
    snapshot = store.snapshot()
    seed_everything(0)
    model = KGRecModel(training_graph(snapshot, node_text_vectors(snapshot, WordEncoder())), channels=16, feature_mode="text")
    config = TrainConfig(loss="softmax", num_negatives=8, batch_size=64, lr=1e-2, epochs=40, patience=40, progress=False)
    Trainer(model, snapshot, config).fit()
    return model.eval()
