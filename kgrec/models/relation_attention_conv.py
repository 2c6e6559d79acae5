"""Relation-typed attentive message passing over knowledge-graph edges, in the line of KGAT."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.utils import softmax

from kgrec.models.edge_ops import EdgePattern, edge_dot, edge_sum


class RelationAttentionConv(torch.nn.Module):
    r"""Attentive aggregation over typed edges :math:`(j, r, i)`, one softmax per target and
    relation (a *group* :math:`g = (i, r)`), each message summed into an output *slot*:

    .. math::
        \pi_{jri} = \operatorname{softmax}_{j \in \mathcal{N}_r(i)}
            \big( (\mathbf{W} \mathbf{x}_j)^\top \tanh(\mathbf{W} \mathbf{x}_i + \mathbf{e}_r) \big),
        \qquad
        \mathbf{o}_s = \sum_{(j, r, i) \to s} w_{jri}\, \pi_{jri}\, \mathbf{x}_j

    with a shared projection :math:`\mathbf{W}` and a vector :math:`\mathbf{e}_r` per relation.
    The caller picks the slots and the fixed edge weights :math:`w`: in kgrec an item's view of
    relation :math:`r` is a slot (:math:`w = 1`, so :math:`\mathbf{o} = \mathbf{m}_{ri}`), and an
    entity is a slot fed by all its relations (:math:`w = 1 / |\mathcal{R}_i|`, the mean of
    its per-relation messages). The query :math:`\tanh(\mathbf{W}\mathbf{x}_i + \mathbf{e}_r)`
    is computed once per group; the scores are one sampled product over the ``groups`` pattern
    and the sums one sparse product over the ``slots`` pattern
    (:mod:`~kgrec.models.edge_ops`): no ``[E, d]`` tensor, forward or backward. Runs in float32.

    Args:
        channels: node feature size :math:`d`.
        num_relations: :math:`R`, the number of edge types (inverses counted separately).
        attention_channels: size of :math:`\mathbf{W} \mathbf{x}`.

    Shapes: ``x [N, d]``; ``groups`` the ``[G, N]`` pattern group -> source node of the ``E``
    edges; ``group_target [G]``, ``group_type [G]`` each group's target node and relation;
    ``slots`` the ``[S, N]`` pattern slot -> source node of the same edges, ``slot_order [E]``
    the groups pattern's edge behind each of its edges, ``edge_weight [E]`` (slots order)
    -> ``[S, d]`` (zeros for a slot no edge feeds).
    """

    def __init__(self, channels: int, num_relations: int, attention_channels: int = 32) -> None:
        super().__init__()
        self.num_relations = num_relations
        self.proj = torch.nn.Linear(channels, attention_channels, bias=False)
        self.relation = torch.nn.Parameter(torch.empty(num_relations, attention_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.xavier_uniform_(self.proj.weight)
        torch.nn.init.zeros_(self.relation)

    def forward(
        self,
        x: Tensor,
        groups: EdgePattern,
        group_target: Tensor,
        group_type: Tensor,
        slots: EdgePattern,
        slot_order: Tensor,
        edge_weight: Tensor,
    ) -> Tensor:
        with torch.autocast(x.device.type, enabled=False):  # sparse kernels: float32
            x = x.float()
            h = self.proj(x)  # [N, a]
            query = torch.tanh(h.index_select(0, group_target) + self.relation.index_select(0, group_type))
            logits = edge_dot(query, h, groups)  # [E], groups order
            attention = softmax(logits, groups.row, num_nodes=groups.size[0])
            return edge_sum(attention.index_select(0, slot_order) * edge_weight, x, slots)
