"""The attention scorer: a factorization machine over [u_i ; v_j ; z_ij ; alpha_ij]."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class ScoreParts:
    """The scorer's output for users ``[B]`` against items ``[K]``.

    ``logits``: ``[B, K]`` :math:`g`, the score before the sigmoid.
    ``alpha``: ``[B, K]`` user-item attention :math:`\\alpha_{ij}` in (0, 1).
    ``relation_attention``: ``[B, R]`` each user's softmax attention :math:`a_{ir}` over relations.
    ``relation_terms``: ``[B, R, K]`` the part of ``logits`` carried by relation ``r``'s view
    (zeros-width ``R = 0`` when the scorer has no z field).
    """

    logits: Tensor
    alpha: Tensor
    relation_attention: Tensor
    relation_terms: Tensor


class AttentionScorer(torch.nn.Module):
    r"""Personalized scorer :math:`y_{ij} = \sigma(g([\mathbf{u}_i; \mathbf{v}_j; \mathbf{z}_{ij}; \alpha_{ij}]))`.

    Relation vector and attention:

    .. math::
        a_{ir} = \operatorname{softmax}_r(\mathbf{u}_i^\top \mathbf{W}_a \mathbf{k}_r), \quad
        \mathbf{z}_{ij} = \sum_r a_{ir}\, \mathbf{m}_{rj}, \quad
        \alpha_{ij} = \sigma\big((\mathbf{W}_q \mathbf{u}_i)^\top \mathbf{W}_k \mathbf{v}_j / \sqrt{d}\big)

    where :math:`\mathbf{m}_{rj}` is the reasoner's view of item :math:`j` over relation
    :math:`r`. :math:`g` is a second-order factorization machine over the four fields,
    :math:`g(\mathbf{x}) = \sum_f \mathbf{w}_f^\top \mathbf{x}_f
    + \sum_{f<f'} \langle \mathbf{V}_f \mathbf{x}_f, \mathbf{V}_{f'} \mathbf{x}_{f'} \rangle`
    (the scalar field :math:`\alpha` has a vector :math:`\mathbf{V}_\alpha`). The pairwise terms
    make it personalized: a linear :math:`g` adds a user term to an item term and ranks items
    the same way for everyone. Because :math:`\mathbf{z}_{ij}` is linear in the views, every term
    is a matmul over ``[B, d] x [d, R * K]`` at most: no ``[B, K, d]`` tensor is built.

    Args:
        channels: :math:`d`, the size of u, v and the views.
        num_relations: :math:`R`, the number of item views (0 disables the z field).
        factor_channels: :math:`k`, the size of the FM factors :math:`\mathbf{V}_f \mathbf{x}_f`.
    """

    def __init__(self, channels: int, num_relations: int, factor_channels: int = 64) -> None:
        super().__init__()
        self.channels = channels
        self.num_relations = num_relations
        self.relation_keys = torch.nn.Parameter(torch.empty(num_relations, channels))
        self.relation_query = torch.nn.Linear(channels, channels, bias=False)
        self.query = torch.nn.Linear(channels, channels, bias=False)
        self.key = torch.nn.Linear(channels, channels, bias=False)
        self.factors = torch.nn.ModuleDict(
            {f: torch.nn.Linear(channels, factor_channels, bias=False) for f in ("u", "v", "z")}
        )
        self.alpha_factor = torch.nn.Parameter(torch.empty(factor_channels))
        self.linear = torch.nn.ModuleDict(
            {f: torch.nn.Linear(channels, 1, bias=False) for f in ("u", "v", "z")}
        )
        self.alpha_weight = torch.nn.Parameter(torch.empty(()))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.normal_(self.relation_keys, std=0.1)
        for lin in [self.relation_query, self.query, self.key, *self.factors.values()]:
            torch.nn.init.xavier_uniform_(lin.weight)
        for lin in self.linear.values():
            torch.nn.init.zeros_(lin.weight)
        torch.nn.init.zeros_(self.alpha_factor)
        torch.nn.init.zeros_(self.alpha_weight)

    def forward(self, u: Tensor, v: Tensor, views: Tensor) -> ScoreParts:
        """``u [B, d]``, ``v [K, d]``, ``views [K, R, d]`` -> :class:`ScoreParts`."""
        alpha = torch.sigmoid(self.query(u) @ self.key(v).t() / self.channels**0.5)  # [B, K]
        pu, pv = self.factors["u"](u), self.factors["v"](v)  # [B, k], [K, k]
        logits = (
            self.linear["u"](u)
            + self.linear["v"](v).t()
            + alpha
            * (
                self.alpha_weight
                + (pu @ self.alpha_factor).unsqueeze(1)
                + (pv @ self.alpha_factor).unsqueeze(0)
            )
            + pu @ pv.t()
        )
        if self.num_relations == 0:
            empty = u.new_zeros(u.size(0), 0)
            return ScoreParts(logits, alpha, empty, u.new_zeros(u.size(0), 0, v.size(0)))
        attention = torch.softmax(self.relation_query(u) @ self.relation_keys.t(), dim=-1)  # [B, R]
        pz = self.factors["z"](views)  # [K, R, k]
        # Per relation r: <V_u u_i + alpha_ij V_alpha + V_v v_j, V_z m_rj> + w_z . m_rj
        user_side = torch.einsum("bk,jrk->brj", pu, pz)  # [B, R, K]
        alpha_side = alpha.unsqueeze(1) * (pz @ self.alpha_factor).t().unsqueeze(0)  # [B, R, K]
        item_side = ((pz * pv.unsqueeze(1)).sum(-1) + self.linear["z"](views).squeeze(-1)).t()
        terms = attention.unsqueeze(-1) * (user_side + alpha_side + item_side.unsqueeze(0))
        return ScoreParts(logits + terms.sum(1), alpha, attention, terms)
