"""Candidates from the store's vector index: the model's embeddings written onto the nodes, and
the items nearest to a user (``Recommender.recommend(..., candidates=n)``)."""

from __future__ import annotations

import torch

from kgrec.graph.snapshot import Snapshot
from kgrec.graph.store import GraphStore


def publish_embeddings(
    store: GraphStore, snapshot: Snapshot, embeddings: dict[str, torch.Tensor], similarity: str = "cosine"
) -> str:
    """Write ``embeddings`` (``{"user": [U, d], "item": [I, d]}``, in ``snapshot`` order) onto
    the store's user and item nodes and (re)build the item vector index; returns its name."""
    for node_type, label in (("user", "User"), ("item", "Item")):
        store.write_embeddings(label, snapshot.node_ids[node_type], embeddings[node_type].numpy())
    return store.create_vector_index("Item", int(embeddings["item"].size(1)), similarity, replace=True)


def nearest_items(store: GraphStore, snapshot: Snapshot, user_vectors: torch.Tensor, n: int) -> torch.Tensor:
    """``[B, I]`` mask of the ``n`` items nearest to each of ``user_vectors`` ``[B, d]`` in the
    store's item vector index."""
    mask = torch.zeros(user_vectors.size(0), snapshot.num_nodes("item"), dtype=torch.bool)
    for row, vector in enumerate(user_vectors):
        hits = store.query_vector_index("Item", vector.numpy(), n)
        mask[row, snapshot.index_of("item", [i for i, _ in hits])] = True
    return mask
