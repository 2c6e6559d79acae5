"""The attention scorer: a cosine collaborative term plus a learned relation/attention residual."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass(frozen=True)
class ScoreParts:
    """The scorer's output for users ``[B]`` against items ``[K]``.

    ``logits``: ``[B, K]`` :math:`g`, the score before the sigmoid.
    ``alpha``: ``[B, K]`` user-item attention :math:`\\alpha_{ij}` in (0, 1).
    ``relation_attention``: ``[B, R]`` each user's softmax attention :math:`a_{ir}` over relations.
    ``relation_terms``: ``[B, R, K]`` the part of ``logits`` carried by relation ``r``'s view
    (zero-width ``R = 0`` when the scorer has no z field).
    """

    logits: Tensor
    alpha: Tensor
    relation_attention: Tensor
    relation_terms: Tensor


@dataclass(frozen=True)
class ItemSide:
    r"""The scorer's inputs that depend on items ``[K]`` only, computed once by
    :meth:`AttentionScorer.item_side` and shared by every batch of users scored against them.

    ``collaborative``: ``[K, d]`` the items of the collaborative term, :math:`\hat{\mathbf{v}}_j`
    (cosine) or :math:`\mathbf{v}_j`.
    ``keys``: ``[K, d]`` :math:`\mathbf{W}_k \hat{\mathbf{v}}_j`.
    ``views``: ``[K, R, d]`` the unit views :math:`\hat{\mathbf{m}}_{rj}`.

    They are a function of the scorer's parameters at the time they were computed.
    """

    collaborative: Tensor
    keys: Tensor
    views: Tensor

    def __getitem__(self, items: Tensor) -> ItemSide:
        """The item side of ``items`` ``[K']`` (indices into these ``K`` items)."""
        return ItemSide(self.collaborative[items], self.keys[items], self.views[items])


class AttentionScorer(torch.nn.Module):
    r"""Personalized scorer :math:`y_{ij} = \sigma(g([\mathbf{u}_i; \mathbf{v}_j; \mathbf{z}_{ij}; \alpha_{ij}]))`.

    With :math:`\hat{\mathbf{x}} = \mathbf{x} / \lVert\mathbf{x}\rVert` and the reasoner's
    view :math:`\mathbf{m}_{rj}` of item :math:`j` over relation :math:`r`:

    .. math::
        a_{ir} = \operatorname{softmax}_r(\hat{\mathbf{u}}_i^\top \mathbf{W}_a \mathbf{k}_r), \quad
        \mathbf{z}_{ij} = \sum_r a_{ir}\, \hat{\mathbf{m}}_{rj}, \quad
        \alpha_{ij} = \sigma\big((\mathbf{W}_q \hat{\mathbf{u}}_i)^\top \mathbf{W}_k \hat{\mathbf{v}}_j\big)

    .. math::
        g = \frac{1}{\tau}\Big(\hat{\mathbf{u}}_i^\top \hat{\mathbf{v}}_j
            + (\mathbf{P} \hat{\mathbf{u}}_i)^\top \mathbf{z}_{ij} + \beta\, \alpha_{ij}\Big)

    The first term is the collaborative (LightGCN) score on the cosine scale with temperature
    :math:`\tau`; :math:`\mathbf{P}` and :math:`\beta` start at zero, so the relation and
    attention terms are a learned residual on top of it. Every term couples user and item, so
    the ranking is personalized (a linear :math:`g` would add a user term to an item term).
    Because :math:`\mathbf{z}_{ij}` is linear in the views, the z term of all items is one
    matmul of ``[B, R d]`` user rows :math:`(a_{ir} \mathbf{P}\hat{\mathbf{u}}_i)_r` with
    ``[R d, K]`` item columns :math:`(\hat{\mathbf{m}}_{rj})_r`: no ``[B, K, d]`` tensor, and
    ``[B, R, K]`` per-relation terms only when ``parts=True``. The item-only factors
    (:math:`\hat{\mathbf{v}}_j`, :math:`\mathbf{W}_k \hat{\mathbf{v}}_j`,
    :math:`\hat{\mathbf{m}}_{rj}`) come from :meth:`item_side`, so a caller that scores many
    batches of users against the same items computes them once.

    Args:
        channels: :math:`d`, the size of u, v and the views.
        num_relations: :math:`R`, the number of item views (0 disables the z field).
        temperature: :math:`\tau`.
        cosine: score the collaborative term as a cosine (default) or, with ``False``, as the
            plain LightGCN dot product :math:`\mathbf{u}_i^\top \mathbf{v}_j`.
    """

    def __init__(
        self, channels: int, num_relations: int, temperature: float = 0.1, cosine: bool = True
    ) -> None:
        super().__init__()
        self.channels = channels
        self.num_relations = num_relations
        self.temperature = temperature
        self.cosine = cosine
        self.relation_keys = torch.nn.Parameter(torch.empty(num_relations, channels))
        self.relation_query = torch.nn.Linear(channels, channels, bias=False)
        self.relation_proj = torch.nn.Linear(channels, channels, bias=False)
        self.query = torch.nn.Linear(channels, channels, bias=False)
        self.key = torch.nn.Linear(channels, channels, bias=False)
        self.alpha_weight = torch.nn.Parameter(torch.empty(()))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.normal_(self.relation_keys, std=0.1)
        for lin in (self.relation_query, self.query, self.key):
            torch.nn.init.xavier_uniform_(lin.weight)
        torch.nn.init.zeros_(self.relation_proj.weight)
        torch.nn.init.zeros_(self.alpha_weight)

    def item_side(self, v: Tensor, views: Tensor) -> ItemSide:
        """The :class:`ItemSide` of items ``[K]``: ``v [K, d]``, ``views [K, R, d]``."""
        unit = F.normalize(v, dim=-1)
        return ItemSide(unit if self.cosine else v, self.key(unit), F.normalize(views, dim=-1))

    def forward(self, u: Tensor, items: ItemSide, parts: bool = False) -> ScoreParts:
        """``u [B, d]`` against the ``[K]`` ``items`` -> :class:`ScoreParts`; the ``[B, R, K]``
        ``relation_terms`` are computed only with ``parts=True`` (else empty)."""
        unit = F.normalize(u, dim=-1)
        alpha = torch.sigmoid(self.query(unit) @ items.keys.t())  # [B, K]
        logits = (unit if self.cosine else u) @ items.collaborative.t() + self.alpha_weight * alpha
        batch, num_items = u.size(0), items.keys.size(0)
        if self.num_relations == 0:
            empty = u.new_zeros(batch, 0)
            return ScoreParts(logits / self.temperature, alpha, empty, u.new_zeros(batch, 0, num_items))
        attention = torch.softmax(self.relation_query(unit) @ self.relation_keys.t(), dim=-1)  # [B, R]
        pu = self.relation_proj(unit)  # [B, d]
        if parts:
            terms = attention.unsqueeze(-1) * torch.einsum("bd,krd->brk", pu, items.views)  # [B, R, K]
            logits = logits + terms.sum(1)
        else:
            terms = u.new_zeros(batch, 0, num_items)
            user_rows = (attention.unsqueeze(-1) * pu.unsqueeze(1)).reshape(batch, -1)  # [B, R d]
            logits = logits + user_rows @ items.views.reshape(num_items, -1).t()
        return ScoreParts(logits / self.temperature, alpha, attention, terms / self.temperature)

    def pairs(self, u: Tensor, items: ItemSide) -> Tensor:
        """``[B]`` logits of the pairs ``(u[b], items[b])``: ``u [B, d]`` and ``[B]`` ``items``;
        equal to the diagonal of :meth:`forward`, without the ``[B, B]``."""
        unit = F.normalize(u, dim=-1)
        alpha = torch.sigmoid((self.query(unit) * items.keys).sum(-1))
        logits = ((unit if self.cosine else u) * items.collaborative).sum(-1) + self.alpha_weight * alpha
        if self.num_relations:
            attention = torch.softmax(self.relation_query(unit) @ self.relation_keys.t(), dim=-1)
            per_relation = (items.views * self.relation_proj(unit).unsqueeze(1)).sum(-1)
            logits = logits + (attention * per_relation).sum(-1)
        return logits / self.temperature
