"""The GNN reasoner: relation-aware attentive propagation over the heterogeneous graph."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch_geometric.data import HeteroData
from torch_geometric.nn import HeteroConv
from torch_geometric.typing import EdgeType

from kgrec.graph.snapshot import INTERACTION_EDGE
from kgrec.models.normalized_conv import NormalizedConv, normalized_adjacency
from kgrec.models.relation_attention_conv import RelationAttentionConv

INTERACTION_RELATIONS = (INTERACTION_EDGE[1], f"rev_{INTERACTION_EDGE[1]}")


@dataclass(frozen=True)
class ReasonedGraph:
    """The reasoner's output.

    ``x[t]``: ``[N_t, d]`` final embeddings (mean over layers 0..L).
    ``item_views``: ``[N_items, R, d]`` per-relation views of each item (the layer mean of the
    messages an item receives over each relation in :attr:`KGReasoner.item_relations`).
    """

    x: dict[str, Tensor]
    item_views: Tensor


class KGReasoner(torch.nn.Module):
    r"""Relation-aware attentive GNN over users, items and entities.

    Every edge type :math:`r` of ``graph`` gets its own convolution per layer: the interactions
    and their inverse a :class:`NormalizedConv` (collaborative signal, LightGCN weights), every
    KG relation and its ``rev_`` inverse a :class:`RelationAttentionConv` (KGAT-style attention).
    A node averages the views of the relations it has edges of:

    .. math::
        \mathbf{h}^{(l+1)}_i = \frac{1}{|\mathcal{R}_i|}\sum_{r \in \mathcal{R}_i}
            \mathrm{conv}^{(l)}_r(\mathbf{h}^{(l)})_i, \qquad
        \mathbf{h}_i = \frac{1}{L+1}\sum_{l=0}^{L} \mathbf{h}^{(l)}_i

    Args:
        graph: the training graph (edge types and ``edge_index``; kept as buffers).
        channels: embedding size :math:`d`.
        num_layers: :math:`L`.
        attention_channels: size of each relation's attention projection.
    """

    def __init__(
        self, graph: HeteroData, channels: int, num_layers: int = 2, attention_channels: int = 32
    ) -> None:
        super().__init__()
        self.edge_types: list[EdgeType] = list(graph.edge_types)
        self.num_layers = num_layers
        self.item_relations = [e for e in self.edge_types if e[2] == "item"]
        for k, (src, rel, dst) in enumerate(self.edge_types):
            edges = graph[src, rel, dst].edge_index
            if rel in INTERACTION_RELATIONS:
                edges = normalized_adjacency(edges, graph[src].num_nodes, graph[dst].num_nodes)
            self.register_buffer(f"edge_index_{k}", edges, persistent=False)
        self.convs = torch.nn.ModuleList(
            HeteroConv(
                {
                    e: NormalizedConv()
                    if e[1] in INTERACTION_RELATIONS
                    else RelationAttentionConv(channels, attention_channels)
                    for e in self.edge_types
                },
                aggr=None,
            )
            for _ in range(num_layers)
        )
        # has_relation[t]: [N_t, R_t] 1.0 where node has an incoming edge of relation r.
        for t in graph.node_types:
            incoming = [e for e in self.edge_types if e[2] == t]
            present = torch.zeros(graph[t].num_nodes, max(len(incoming), 1))
            for k, e in enumerate(incoming):
                present[graph[e].edge_index[1], k] = 1.0
            self.register_buffer(f"has_relation_{t}", present, persistent=False)

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()

    @property
    def relation_names(self) -> list[str]:
        """Names of the item relations, in the order of ``ReasonedGraph.item_views``."""
        return [rel for _, rel, _ in self.item_relations]

    def forward(self, x: dict[str, Tensor]) -> ReasonedGraph:
        edge_index = {e: getattr(self, f"edge_index_{k}") for k, e in enumerate(self.edge_types)}
        layer_sum = dict(x)
        views_sum: Tensor | None = None
        for conv in self.convs:
            stacked = conv(x, edge_index)  # {t: [N_t, R_t, d]}
            x = dict(x)
            for t, views in stacked.items():
                present = getattr(self, f"has_relation_{t}")  # [N_t, R_t]
                x[t] = (views * present.unsqueeze(-1)).sum(1) / present.sum(1, keepdim=True).clamp(
                    min=1.0
                )
                layer_sum[t] = layer_sum[t] + x[t]
            if "item" in stacked:
                views_sum = stacked["item"] if views_sum is None else views_sum + stacked["item"]
        mean = {t: v / (self.num_layers + 1) for t, v in layer_sum.items()}
        if views_sum is None:
            views_sum = mean["item"].new_zeros(mean["item"].size(0), 0, mean["item"].size(1))
        return ReasonedGraph(mean, views_sum / max(self.num_layers, 1))
