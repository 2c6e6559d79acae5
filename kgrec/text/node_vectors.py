"""Text vectors for every node of a snapshot, aligned with ``snapshot.node_ids``."""

from __future__ import annotations

from typing import Protocol, Sequence

import torch

from kgrec.graph.snapshot import NODE_TYPES, Snapshot


class Encodes(Protocol):
    """Anything with ``encode(texts) -> [N, dim]``: a TextEncoder or an EmbeddingCache."""

    def encode(self, texts: Sequence[str]) -> torch.Tensor: ...


def node_text_vectors(snapshot: Snapshot, encoder: Encodes) -> dict[str, torch.Tensor | None]:
    """``{node_type: [N_t, dim]}`` vectors of each node's text (its name when it has no text).

    Nodes with neither get a zero row; a node type where no node has either maps to ``None``,
    so the model runs id-only for it.
    """
    out: dict[str, torch.Tensor | None] = {}
    for node_type in NODE_TYPES:
        texts = [
            text or name
            for text, name in zip(snapshot.node_text[node_type], snapshot.node_name[node_type])
        ]
        present = [k for k, t in enumerate(texts) if t]
        if not present:
            out[node_type] = None
            continue
        vectors = encoder.encode([texts[k] for k in present])
        full = torch.zeros(len(texts), vectors.size(1))
        full[present] = vectors
        out[node_type] = full
    return out
