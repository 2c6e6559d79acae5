"""One relation's attentive message passing, in the line of KGAT."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import softmax


class RelationAttentionConv(MessagePassing):
    r"""Attentive neighbourhood mean over the edges of one relation :math:`r`:

    .. math::
        \mathbf{x}'_i = \sum_{j \in \mathcal{N}_r(i)} \pi_{ij} \mathbf{x}_j, \qquad
        \pi_{ij} = \operatorname{softmax}_{j \in \mathcal{N}_r(i)}
            \big( (\mathbf{W}_r \mathbf{x}_j)^\top \tanh(\mathbf{W}_r \mathbf{x}_i + \mathbf{e}_r) \big)

    with a per-relation projection :math:`\mathbf{W}_r` and relation vector :math:`\mathbf{e}_r`.
    Nodes without an ``r`` edge get zeros.

    Args:
        channels: node feature size :math:`d` (source and target).
        attention_channels: size of :math:`\mathbf{W}_r \mathbf{x}`.

    Shapes: ``x = (x_src [N_src, d], x_dst [N_dst, d])``, ``edge_index [2, E]`` -> ``[N_dst, d]``.
    """

    def __init__(self, channels: int, attention_channels: int = 32) -> None:
        super().__init__(aggr="add", node_dim=0)
        self.proj = torch.nn.Linear(channels, attention_channels, bias=False)
        self.relation = torch.nn.Parameter(torch.empty(attention_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        torch.nn.init.xavier_uniform_(self.proj.weight)
        torch.nn.init.zeros_(self.relation)

    def forward(self, x: tuple[Tensor, Tensor], edge_index: Tensor) -> Tensor:
        return self.propagate(edge_index, x=x)

    def message(
        self, x_i: Tensor, x_j: Tensor, index: Tensor, ptr: Tensor | None, size_i: int | None
    ) -> Tensor:
        logits = (self.proj(x_j) * torch.tanh(self.proj(x_i) + self.relation)).sum(-1)
        return softmax(logits, index, ptr, size_i).unsqueeze(-1) * x_j
