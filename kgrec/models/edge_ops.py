"""Per-edge products over a fixed sparsity pattern, as sparse kernels with hand-made backwards.

An attention layer computes a score per edge from its two ends and sums weighted messages per
target; written with gathers and scatters, each step holds an ``[E, d]`` tensor. Over a fixed
pattern both are single sparse kernels: the scores are a sampled dense-dense product (SDDMM,
:func:`torch.sparse.sampled_addmm`) and the sums a sparse-dense product (SpMM), and each one's
backward is the other, with the pattern's transpose built once.
"""

from __future__ import annotations

import torch
from torch import Tensor


class EdgePattern(torch.nn.Module):
    """The pattern of ``E`` edges ``row -> col`` in a ``[num_rows, num_cols]`` matrix, rows
    sorted: CSR ``ptr`` ``[num_rows + 1]`` and ``col`` ``[E]``, and its transpose (``t_ptr``,
    ``t_col``, with ``order`` ``[E]`` the edges in column order). Buffers, not saved."""

    def __init__(self, row: Tensor, col: Tensor, num_rows: int, num_cols: int) -> None:
        super().__init__()
        if row.numel() and bool((row.diff() < 0).any()):
            raise ValueError("an EdgePattern's rows must be sorted")
        self.size = (num_rows, num_cols)
        order = torch.sort(col, stable=True).indices
        for name, value in {
            "row": row, "col": col, "ptr": _pointers(row, num_rows), "order": order,
            "t_ptr": _pointers(col[order], num_cols), "t_col": row[order],
        }.items():
            self.register_buffer(name, value, persistent=False)

    def matrix(self, values: Tensor) -> Tensor:
        """The ``[num_rows, num_cols]`` CSR matrix with ``values`` ``[E]`` (edge order)."""
        return torch.sparse_csr_tensor(self.ptr, self.col, values, self.size)

    def transposed(self, values: Tensor) -> Tensor:
        """The ``[num_cols, num_rows]`` CSR transpose with ``values`` ``[E]`` (edge order)."""
        return torch.sparse_csr_tensor(self.t_ptr, self.t_col, values[self.order], self.size[::-1])


def _pointers(sorted_index: Tensor, size: int) -> Tensor:
    return torch.searchsorted(sorted_index, torch.arange(size + 1, device=sorted_index.device))


class _EdgeDot(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor, pattern: EdgePattern) -> Tensor:
        ctx.save_for_backward(a, b)
        ctx.pattern = pattern
        empty = pattern.matrix(a.new_zeros(pattern.col.numel()))
        return torch.sparse.sampled_addmm(empty, a.contiguous(), b.t(), beta=0.0).values()

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, Tensor, None]:
        a, b = ctx.saved_tensors
        pattern = ctx.pattern
        return pattern.matrix(grad) @ b, pattern.transposed(grad) @ a, None


class _EdgeSum(torch.autograd.Function):
    @staticmethod
    def forward(ctx, values: Tensor, x: Tensor, pattern: EdgePattern) -> Tensor:
        ctx.save_for_backward(values, x)
        ctx.pattern = pattern
        return pattern.matrix(values) @ x

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, Tensor, None]:
        values, x = ctx.saved_tensors
        pattern = ctx.pattern
        empty = pattern.matrix(values.new_zeros(values.numel()))
        grad_values = torch.sparse.sampled_addmm(empty, grad.contiguous(), x.t(), beta=0.0).values()
        return grad_values, pattern.transposed(values) @ grad, None


def edge_dot(a: Tensor, b: Tensor, pattern: EdgePattern) -> Tensor:
    r"""``[E]`` :math:`\mathbf{a}_{row_e}^\top \mathbf{b}_{col_e}` for ``a [num_rows, k]``,
    ``b [num_cols, k]``; differentiable in both."""
    return _EdgeDot.apply(a, b, pattern)


def edge_sum(values: Tensor, x: Tensor, pattern: EdgePattern) -> Tensor:
    r"""``[num_rows, d]`` :math:`\sum_{e: row_e = i} v_e \mathbf{x}_{col_e}` for ``values [E]``,
    ``x [num_cols, d]``; differentiable in both."""
    return _EdgeSum.apply(values, x, pattern)
