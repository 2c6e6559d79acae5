"""Relation-typed attentive message passing over knowledge-graph edges, in the line of KGAT."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import scatter, softmax


class RelationAttentionConv(MessagePassing):
    r"""Attentive propagation over typed edges :math:`(j, r, i)`, one softmax per target and
    relation:

    .. math::
        \pi_{jri} = \operatorname{softmax}_{j \in \mathcal{N}_r(i)}
            \big( (\mathbf{W} \mathbf{x}_j)^\top \tanh(\mathbf{W} \mathbf{x}_i + \mathbf{e}_r) \big),
        \qquad
        \mathbf{m}_{ri} = \sum_{j \in \mathcal{N}_r(i)} \pi_{jri} \mathbf{x}_j, \qquad
        \mathbf{x}'_i = \frac{1}{|\mathcal{R}_i|} \sum_{r \in \mathcal{R}_i} \mathbf{m}_{ri}

    with a shared projection :math:`\mathbf{W}` and a vector :math:`\mathbf{e}_r` per relation.
    :math:`\mathbf{x}'` is the node update (zeros without incoming edges); the per-relation
    views :math:`\mathbf{m}_{ri}` are returned for the edges given a view slot (in kgrec: the
    items), so all relations share one pass and no ``[N, R, d]`` tensor over all nodes is built.

    Args:
        channels: node feature size :math:`d`.
        num_relations: :math:`R`, the number of edge types (inverses counted separately).
        attention_channels: size of :math:`\mathbf{W} \mathbf{x}`.

    Shapes: ``x [N, d]``, ``edge_index [2, E]``, ``edge_type [E]``, ``num_relations_at [N]``
    (:math:`|\mathcal{R}_i|`), ``view_slot [E]`` (flat view index, -1 for none) ->
    ``(x' [N, d], views [num_view_slots, d])``.
    """

    def __init__(self, channels: int, num_relations: int, attention_channels: int = 32) -> None:
        super().__init__(aggr="add", node_dim=0)
        self.num_relations = num_relations
        self.proj = torch.nn.Linear(channels, attention_channels, bias=False)
        self.relation = torch.nn.Parameter(torch.empty(num_relations, attention_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        torch.nn.init.xavier_uniform_(self.proj.weight)
        torch.nn.init.zeros_(self.relation)

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_type: Tensor,
        num_relations_at: Tensor,
        view_slot: Tensor,
        num_view_slots: int,
    ) -> tuple[Tensor, Tensor]:
        group = edge_index[1] * self.num_relations + edge_type
        weighted = self.propagate(
            edge_index, x=x, h=self.proj(x), edge_type=edge_type, group=group,
            num_groups=x.size(0) * self.num_relations,
        )  # [E, d]: pi_jri x_j
        target = edge_index[1]
        has_view = view_slot >= 0
        views = scatter(weighted[has_view], view_slot[has_view], 0, num_view_slots, reduce="sum")
        scale = num_relations_at.clamp(min=1).reciprocal()[target].unsqueeze(-1)
        node = scatter(weighted * scale, target, 0, x.size(0), reduce="sum")
        return node, views

    def message(
        self, x_j: Tensor, h_i: Tensor, h_j: Tensor, edge_type: Tensor, group: Tensor, num_groups: int
    ) -> Tensor:
        logits = (h_j * torch.tanh(h_i + self.relation[edge_type])).sum(-1)
        return softmax(logits, group, num_nodes=num_groups).unsqueeze(-1) * x_j

    def aggregate(self, inputs: Tensor, index: Tensor) -> Tensor:
        """Keep the per-edge weighted messages: :meth:`forward` reduces them twice."""
        return inputs
