"""The model's input: a snapshot's train graph as HeteroData, with optional text vectors."""

from __future__ import annotations

from torch import Tensor
from torch_geometric.data import HeteroData

from kgrec.graph.snapshot import INTERACTION_EDGE, Snapshot


def training_graph(
    snapshot: Snapshot,
    text_vectors: dict[str, Tensor | None] | None = None,
    *,
    with_kg: bool = True,
) -> HeteroData:
    """Users, items and entities with the *train* interactions and (if ``with_kg``) every
    knowledge-graph relation as typed edges, each with its ``rev_`` inverse.

    ``text_vectors[t]`` (``[N_t, d_text]``, e.g. from :func:`kgrec.text.node_text_vectors`) is
    attached as ``data[t].text``; node types without it are id-only.
    """
    data = snapshot.to_hetero_data(("train",), add_reverse=True)
    if not with_kg:
        interaction = INTERACTION_EDGE[1]
        for edge_type in data.edge_types:
            if edge_type[1] not in (interaction, f"rev_{interaction}"):
                del data[edge_type]
    for node_type, vectors in (text_vectors or {}).items():
        if vectors is not None:
            if vectors.size(0) != data[node_type].num_nodes:
                raise ValueError(
                    f"text vectors of {node_type!r} have {vectors.size(0)} rows, "
                    f"the graph has {data[node_type].num_nodes} nodes"
                )
            data[node_type].text = vectors.float()
    return data
