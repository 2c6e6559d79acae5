"""EASE: the closed-form item-item linear autoencoder (Steck, WWW 2019)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from kgrec.models.base import RankingModel, train_edge_index
from kgrec.models.hparams import HParam


class EASE(RankingModel):
    r"""Embarrassingly Shallow AutoEncoder (Steck 2019): an item-item weight matrix fitted in
    closed form, once, in the constructor; nothing to train.

    With :math:`X \in \{0, 1\}^{U \times I}` the train interactions of ``graph``, EASE solves

    .. math::
        \min_B \|X - XB\|_F^2 + \lambda \|B\|_F^2 \quad \text{s.t. } \operatorname{diag}(B) = 0

    whose solution is :math:`P = (X^\top X + \lambda I)^{-1}`,
    :math:`B_{ij} = -P_{ij} / P_{jj}` for :math:`i \ne j` and :math:`B_{jj} = 0`
    (i.e. :math:`B = I - P \operatorname{diagMat}(1 / \operatorname{diag} P)`). A user's
    scores are :math:`s_u = X_u B`. ``l2`` is :math:`\lambda > 0` (else
    :class:`~kgrec.errors.InvalidValueError`).

    Shapes: ``X`` ``[U, I]`` (the history scores are read from; rebuilt from the graph, not
    saved), ``B`` ``[I, I]`` (saved); :meth:`score` returns ``[B, K]``. The fit inverts an
    ``[I, I]`` matrix in float64: memory :math:`O(I^2)`, time :math:`O(I^3)`, meant for
    catalogues up to some ten thousand items.
    """

    HPARAMS = {"l2": HParam(float, 0, low_open=True)}

    def __init__(self, graph: HeteroData, l2: float = 200.0) -> None:
        super().__init__(graph)
        self.check_hparams({"l2": l2})
        self.l2 = float(l2)
        users, items = train_edge_index(graph)
        history = torch.zeros(self.num_users, self.num_items)
        history[users, items] = 1.0
        self.register_buffer("history", history, persistent=False)
        self.register_buffer("weights", self.fit(history, self.l2))

    @staticmethod
    def fit(history: Tensor, l2: float) -> Tensor:
        """``[I, I]`` EASE weights for ``history`` ``[U, I]`` (float32, zero diagonal)."""
        x = history.double()
        gram = x.t() @ x
        gram.diagonal().add_(l2)
        precision = torch.linalg.inv(gram)
        weights = -precision / precision.diagonal()  # column j divided by P_jj
        weights.diagonal().zero_()
        return weights.float()

    def hparams(self) -> dict[str, Any]:
        return {"l2": self.l2}

    def encode(self) -> Tensor:
        return self.weights

    def score(self, encoded: Tensor, users: Tensor, items: Tensor | None = None) -> Tensor:
        weights = encoded if items is None else encoded[:, items]
        return self.history[users] @ weights
