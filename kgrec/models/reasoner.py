"""The GNN reasoner: a LightGCN backbone plus relation-typed attentive knowledge-graph views."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch_geometric.data import HeteroData
from torch_geometric.typing import EdgeType

from kgrec.graph.snapshot import INTERACTION_EDGE
from kgrec.models.normalized_conv import NormalizedConv, normalized_adjacency
from kgrec.models.relation_attention_conv import RelationAttentionConv

INTERACTION_RELATIONS = (INTERACTION_EDGE[1], f"rev_{INTERACTION_EDGE[1]}")
KG_NODE_TYPES = ("item", "entity")


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
    r"""Relation-aware GNN over users, items and entities with a LightGCN backbone.

    Users and items propagate over the train interactions (and their inverse) with
    :class:`NormalizedConv`, so their embeddings are exactly LightGCN's and the collaborative
    signal is never averaged with the KG. Items and entities share one
    :class:`RelationAttentionConv` per layer over every KG edge type of ``graph`` (each relation
    and its ``rev_`` inverse a separate type): entities take its update, and each item keeps
    one view per incoming relation :math:`r` (``INTERACTED``: from its users, ``rev_<rel>``:
    from the tails of its ``rel`` edges):

    .. math::
        \mathbf{h}^{(l+1)}_u = \textstyle\sum_{j} \tfrac{1}{\sqrt{d_u d_j}} \mathbf{h}^{(l)}_j, \quad
        \mathbf{h}^{(l+1)}_j = \mathbf{m}^{(l)}_{\text{INTERACTED}, j}
            = \textstyle\sum_{u} \tfrac{1}{\sqrt{d_u d_j}} \mathbf{h}^{(l)}_u, \quad
        \mathbf{h}^{(l+1)}_e = \mathrm{conv}^{(l)}(\mathbf{h}^{(l)})_e, \quad
        \mathbf{m}_{rj} = \frac{1}{L}\sum_{l=0}^{L-1} \mathbf{m}^{(l)}_{rj}, \quad
        \mathbf{h}_k = \frac{1}{L+1}\sum_{l=0}^{L} \mathbf{h}^{(l)}_k

    Args:
        graph: the training graph (edge types and ``edge_index``; kept as buffers).
        channels: embedding size :math:`d`.
        num_layers: :math:`L`.
        attention_channels: size of the relation attention projection.

    Shapes: :meth:`forward` maps ``{t: [N_t, d]}`` to a :class:`ReasonedGraph` with
    ``x[t]`` ``[N_t, d]`` and ``item_views`` ``[N_items, R, d]``.
    """

    def __init__(
        self, graph: HeteroData, channels: int, num_layers: int = 2, attention_channels: int = 32
    ) -> None:
        super().__init__()
        self.num_layers = num_layers
        self.num_items = graph["item"].num_nodes
        user_item = graph[INTERACTION_EDGE].edge_index
        num_users = graph["user"].num_nodes
        adj_item = normalized_adjacency(user_item, num_users, self.num_items)
        adj_user = normalized_adjacency(user_item.flip(0), self.num_items, num_users)
        self.register_buffer("adj_item", adj_item, persistent=False)
        self.register_buffer("adj_user", adj_user, persistent=False)
        self.interaction_conv = NormalizedConv()

        # The KG as one typed graph over [items; entities].
        offset = {"item": 0, "entity": self.num_items}
        kg_types: list[EdgeType] = [
            e for e in graph.edge_types if e[1] not in INTERACTION_RELATIONS
            and e[0] in KG_NODE_TYPES and e[2] in KG_NODE_TYPES
        ]
        into_items = [e for e in kg_types if e[2] == "item"]
        self.item_relations: list[EdgeType] = [INTERACTION_EDGE, *into_items]
        num_kg_nodes = self.num_items + graph["entity"].num_nodes
        edges, types, slots = [], [], []
        for r, e in enumerate(kg_types):
            src, dst = graph[e].edge_index
            edges.append(torch.stack([src + offset[e[0]], dst + offset[e[2]]]))
            types.append(torch.full_like(src, r))
            view = into_items.index(e) if e in into_items else -1
            slots.append(dst * len(into_items) + view if view >= 0 else torch.full_like(src, -1))
        edge_index = torch.cat(edges, 1) if edges else torch.empty(2, 0, dtype=torch.long)
        edge_type = torch.cat(types) if types else torch.empty(0, dtype=torch.long)
        relations_at = torch.zeros(num_kg_nodes, max(len(kg_types), 1), dtype=torch.bool)
        relations_at[edge_index[1], edge_type] = True
        self.register_buffer("kg_edge_index", edge_index, persistent=False)
        self.register_buffer("kg_edge_type", edge_type, persistent=False)
        self.register_buffer("kg_view_slot", torch.cat(slots) if slots else edge_type, persistent=False)
        self.register_buffer("kg_relations_at", relations_at.sum(1).float(), persistent=False)
        self.convs = torch.nn.ModuleList(
            RelationAttentionConv(channels, len(kg_types), attention_channels)
            for _ in range(num_layers if kg_types else 0)
        )

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()

    @property
    def relation_names(self) -> list[str]:
        """Names of the item relations, in the order of ``ReasonedGraph.item_views``."""
        return [rel for _, rel, _ in self.item_relations]

    def forward(self, x: dict[str, Tensor]) -> ReasonedGraph:
        layer_sum = dict(x)
        num_kg_views = len(self.item_relations) - 1
        views_sum: Tensor | float = 0.0
        for layer in range(self.num_layers):
            user = self.interaction_conv((x["item"], x["user"]), self.adj_user)
            item = self.interaction_conv((x["user"], x["item"]), self.adj_item)
            views = item.unsqueeze(1)  # [N_items, 1, d]
            entity = x["entity"]
            if self.convs:
                kg_node, kg_views = self.convs[layer](
                    torch.cat([x["item"], x["entity"]]),
                    self.kg_edge_index,
                    self.kg_edge_type,
                    self.kg_relations_at,
                    self.kg_view_slot,
                    self.num_items * num_kg_views,
                )
                entity = kg_node[self.num_items :]
                views = torch.cat([views, kg_views.view(self.num_items, num_kg_views, -1)], 1)
            x = {**x, "user": user, "item": item, "entity": entity}
            layer_sum = {t: layer_sum[t] + x[t] for t in layer_sum}
            views_sum = views_sum + views
        mean = {t: v / (self.num_layers + 1) for t, v in layer_sum.items()}
        if self.num_layers == 0:
            no_views = x["item"].new_zeros(self.num_items, len(self.item_relations), x["item"].size(1))
            return ReasonedGraph(mean, no_views)
        return ReasonedGraph(mean, views_sum / self.num_layers)
