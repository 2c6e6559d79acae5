"""Matrix factorization, trained with BPR by the trainer."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from kgrec.models.base import DotProductRanker
from kgrec.models.hparams import CHANNELS


class MatrixFactorization(DotProductRanker):
    r"""Dot-product matrix factorization: :math:`s_{ij} = \mathbf{p}_i^\top \mathbf{q}_j`
    with :math:`\mathbf{P} \in \mathbb{R}^{U \times d}`, :math:`\mathbf{Q} \in \mathbb{R}^{I \times d}`
    (BPR-MF when trained with the BPR loss).

    Args:
        graph: only node counts are used.
        channels: :math:`d`.
    """

    HPARAMS = {"channels": CHANNELS}

    def __init__(self, graph: HeteroData, channels: int = 64) -> None:
        super().__init__(graph)
        self.check_hparams({"channels": channels})
        self.channels = channels
        self.user = torch.nn.Embedding(self.num_users, channels)
        self.item = torch.nn.Embedding(self.num_items, channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.xavier_uniform_(self.user.weight)
        torch.nn.init.xavier_uniform_(self.item.weight)

    def hparams(self) -> dict[str, Any]:
        return {"channels": self.channels}

    def encode(self) -> tuple[Tensor, Tensor]:
        return self.user.weight, self.item.weight

    def regularization(self, encoded: tuple[Tensor, Tensor], users: Tensor, items: Tensor) -> Tensor:
        user, item = encoded
        return user[users].pow(2).sum() + item[items].pow(2).sum()
