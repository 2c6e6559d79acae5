"""Graph-normalized propagation over a fixed bipartite relation (the user-item interactions)."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import degree, spmm, to_torch_csr_tensor


def normalized_adjacency(edge_index: Tensor, num_src: int, num_dst: int) -> Tensor:
    r"""``[N_dst, N_src]`` sparse CSR matrix with entries :math:`1/\sqrt{d_i d_j}` for every
    edge ``j -> i`` of ``edge_index`` ``[2, E]`` (the LightGCN normalization)."""
    src, dst = edge_index
    weight = (degree(src, num_src)[src] * degree(dst, num_dst)[dst]).rsqrt()
    return to_torch_csr_tensor(torch.stack([dst, src]), weight, size=(num_dst, num_src))


class _TransposedSpmm(torch.autograd.Function):
    """``matrix @ x`` whose backward multiplies by the given ``transpose`` of ``matrix``, instead
    of transposing the sparse matrix (a sort of its entries) at every backward."""

    @staticmethod
    def forward(ctx, matrix: Tensor, transpose: Tensor, x: Tensor) -> Tensor:
        ctx.transpose = transpose
        return torch.sparse.mm(matrix, x)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[None, None, Tensor]:
        return None, None, torch.sparse.mm(ctx.transpose, grad)


class NormalizedConv(MessagePassing):
    r"""Parameter-free LightGCN-style propagation
    :math:`\mathbf{x}'_i = \sum_{j \in \mathcal{N}(i)} \frac{1}{\sqrt{d_i d_j}} \mathbf{x}_j`,
    as one sparse matmul with the matrix of :func:`normalized_adjacency`.

    With ``adj``, the same matrix transposed (``[N_src, N_dst]``, e.g. the other direction's
    matrix of a bipartite graph), the backward pass multiplies by it rather than transposing
    ``adj_t`` again at every step.

    Shapes: ``x = (x_src [N_src, d], x_dst [N_dst, d])``, ``adj_t [N_dst, N_src]`` -> ``[N_dst, d]``.
    """

    def __init__(self) -> None:
        super().__init__(aggr="add", node_dim=0)

    def forward(self, x: tuple[Tensor, Tensor], adj_t: Tensor, adj: Tensor | None = None) -> Tensor:
        # in float32 under mixed precision: sparse matmuls have no half-precision CPU kernels
        with torch.autocast(x[0].device.type, enabled=False):
            x = (x[0].float(), x[1])
            if adj is not None and torch.is_grad_enabled():
                return _TransposedSpmm.apply(adj_t, adj, x[0])
            return self.propagate(adj_t, x=x)

    def message_and_aggregate(self, adj_t: Tensor, x: tuple[Tensor, Tensor]) -> Tensor:
        return spmm(adj_t, x[0], reduce="sum")
