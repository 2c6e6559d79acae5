"""Most-popular baseline."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from kgrec.models.base import RankingModel, train_edge_index


class Popularity(RankingModel):
    r"""Scores every item by its number of train interactions, the same for every user:
    :math:`s_{ij} = |\{u : (u, j) \in \mathcal{E}_{train}\}|`. No parameters, no training.

    Shapes: :meth:`score` returns ``[B, K]``.
    """

    def __init__(self, graph: HeteroData) -> None:
        super().__init__(graph)
        counts = torch.bincount(train_edge_index(graph)[1], minlength=self.num_items)
        self.register_buffer("counts", counts.float())

    def hparams(self) -> dict[str, Any]:
        return {}

    def encode(self) -> Tensor:
        return self.counts

    def score(self, encoded: Tensor, users: Tensor, items: Tensor | None = None) -> Tensor:
        counts = encoded if items is None else encoded[items]
        return counts.unsqueeze(0).expand(users.numel(), -1)
