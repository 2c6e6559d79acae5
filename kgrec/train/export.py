"""Write a trained model's node embeddings back onto the nodes of a graph store."""

from __future__ import annotations

import logging

import torch

from kgrec.graph.snapshot import Snapshot
from kgrec.graph.store import GraphStore
from kgrec.models.base import RankingModel

log = logging.getLogger(__name__)


def write_embeddings(
    store: GraphStore, snapshot: Snapshot, model: RankingModel, property: str = "embedding"
) -> dict[str, int]:
    """Store ``model.node_embeddings()[t]`` row ``k`` as ``property`` of node
    ``snapshot.node_ids[t][k]`` for every node type ``t`` the model embeds (the snapshot must be
    the one the model was trained on). Returns the number of nodes written per type."""
    with torch.no_grad():
        embeddings = model.node_embeddings()
    written = {}
    for node_type, vectors in embeddings.items():
        ids = snapshot.node_ids[node_type]
        if vectors.size(0) != len(ids):
            raise ValueError(
                f"{node_type}: the model has {vectors.size(0)} rows, the snapshot {len(ids)} nodes"
            )
        store.write_embeddings(node_type, list(ids), vectors.detach().float().cpu().numpy(), property=property)
        written[node_type] = len(ids)
    log.info("wrote %s embeddings as %r", written, property)
    return written
