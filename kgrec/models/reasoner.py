"""The GNN reasoner: a LightGCN backbone plus relation-typed attentive knowledge-graph views."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch_geometric.data import HeteroData
from torch_geometric.typing import EdgeType

from kgrec.graph.snapshot import INTERACTION_EDGE
from kgrec.models.edge_ops import EdgePattern
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


class _AttentionEdges(torch.nn.Module):
    """Knowledge-graph edges as :class:`RelationAttentionConv` takes them: ``groups`` (group ->
    source) and ``slots`` (slot -> source) patterns of the same edges, ``slot_order [E]`` each
    slots-order edge's position in groups order, ``weight [E]`` in slots order."""

    def __init__(self, src: Tensor, group: Tensor, slot: Tensor, weight: Tensor,
                 num_groups: int, num_slots: int, num_nodes: int) -> None:
        super().__init__()
        by_group = torch.sort(group * num_nodes + src).indices
        by_slot = torch.sort(slot * num_nodes + src).indices
        self.groups = EdgePattern(group[by_group], src[by_group], num_groups, num_nodes)
        self.slots = EdgePattern(slot[by_slot], src[by_slot], num_slots, num_nodes)
        position = torch.empty_like(by_group)
        position[by_group] = torch.arange(by_group.numel())
        self.register_buffer("slot_order", position[by_slot], persistent=False)
        self.register_buffer("weight", weight[by_slot], persistent=False)


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

        # The KG as one typed graph over [items; entities]; each edge's message goes to a slot:
        # the view (item, relation) of an item target, the update of an entity target.
        offset = {"item": 0, "entity": self.num_items}
        kg_types: list[EdgeType] = [
            e for e in graph.edge_types if e[1] not in INTERACTION_RELATIONS
            and e[0] in KG_NODE_TYPES and e[2] in KG_NODE_TYPES
        ]
        into_items = [e for e in kg_types if e[2] == "item"]
        self.item_relations: list[EdgeType] = [INTERACTION_EDGE, *into_items]
        self.num_views = self.num_items * len(into_items)
        num_kg_nodes = self.num_items + graph["entity"].num_nodes
        sources, targets, types = [], [], []
        for r, e in enumerate(kg_types):
            src, dst = graph[e].edge_index
            sources.append(src + offset[e[0]])
            targets.append(dst + offset[e[2]])
            types.append(torch.full_like(src, r))
        empty = torch.empty(0, dtype=torch.long)
        src, dst, edge_type = (torch.cat(t) if t else empty for t in (sources, targets, types))
        num_types = max(len(kg_types), 1)
        groups, group = torch.unique(dst * num_types + edge_type, return_inverse=True)
        relations_at = torch.bincount(groups // num_types, minlength=num_kg_nodes)  # |R_i|
        view = torch.tensor([into_items.index(e) if e in into_items else -1 for e in kg_types] or [0])
        into_item = dst < self.num_items
        slot = torch.where(into_item, dst * len(into_items) + view[edge_type],
                           self.num_views + dst - self.num_items)
        weight = torch.where(into_item, 1.0, relations_at[dst].clamp(min=1).float().reciprocal())
        self.register_buffer("kg_group_target", groups // num_types, persistent=False)
        self.register_buffer("kg_group_type", groups % num_types, persistent=False)
        num_groups, num_entities = groups.numel(), graph["entity"].num_nodes
        # every edge (layers before the last; and all layers out of training), or the edges
        # into items only (the last layer in training: no score reads its entity updates)
        self.kg_all = _AttentionEdges(src, group, slot, weight, num_groups,
                                      self.num_views + num_entities, num_kg_nodes)
        self.kg_into_items = _AttentionEdges(src[into_item], group[into_item], slot[into_item],
                                        weight[into_item], num_groups, self.num_views, num_kg_nodes)
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

    def forward(self, x: dict[str, Tensor], final_entities: bool = True) -> ReasonedGraph:
        """With ``final_entities=False`` the last layer computes the item views only (all a
        score reads) and ``x["entity"]`` averages the layers before it: training's shortcut."""
        layer_sum = dict(x)
        num_kg_views = len(self.item_relations) - 1
        views_sum: Tensor | float = 0.0
        for layer in range(self.num_layers):
            user = self.interaction_conv((x["item"], x["user"]), self.adj_user, self.adj_item)
            item = self.interaction_conv((x["user"], x["item"]), self.adj_item, self.adj_user)
            views = item.unsqueeze(1)  # [N_items, 1, d]
            entity = x["entity"]
            if self.convs:
                kg_x = torch.cat([x["item"], x["entity"]])
                every = final_entities or layer < self.num_layers - 1
                edges = self.kg_all if every else self.kg_into_items
                out = self.convs[layer](kg_x, edges.groups, self.kg_group_target, self.kg_group_type,
                                        edges.slots, edges.slot_order, edges.weight)
                if every:
                    entity = out[self.num_views :]
                kg_views = out[: self.num_views].view(self.num_items, num_kg_views, -1)
                views = torch.cat([views, kg_views], 1)
            x = {**x, "user": user, "item": item, "entity": entity}
            layer_sum = {t: layer_sum[t] + x[t] for t in layer_sum}
            views_sum = views_sum + views
        mean = {t: v / (self.num_layers + 1) for t, v in layer_sum.items()}
        if self.num_layers == 0:
            no_views = x["item"].new_zeros(self.num_items, len(self.item_relations), x["item"].size(1))
            return ReasonedGraph(mean, no_views)
        return ReasonedGraph(mean, views_sum / self.num_layers)
