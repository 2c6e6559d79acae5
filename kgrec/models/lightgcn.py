"""PyG's LightGCN on the user-item graph, in the kgrec harness."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import HeteroData
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.nn.models import LightGCN
from torch_geometric.utils import to_torch_csr_tensor

from kgrec.models.base import DotProductRanker, train_edge_index
from kgrec.models.hparams import CHANNELS, LAYERS


class LightGCNRanker(DotProductRanker):
    r""":class:`torch_geometric.nn.models.LightGCN` over the homogeneous graph of
    :math:`U + I` nodes (users first) with the train interactions in both directions:
    :math:`\mathbf{E} = \sum_{l=0}^{L} \frac{1}{L+1} (\mathbf{D}^{-1/2}\mathbf{A}\mathbf{D}^{-1/2})^l
    \mathbf{E}^{(0)}`, scores :math:`s_{ij} = \mathbf{e}_i^\top \mathbf{e}_j`.
    Regularization is on :math:`\mathbf{E}^{(0)}`.

    Args:
        graph: the train interactions.
        channels: :math:`d`.
        num_layers: :math:`L`.
    """

    HPARAMS = {"channels": CHANNELS, "num_layers": LAYERS}

    def __init__(self, graph: HeteroData, channels: int = 64, num_layers: int = 3) -> None:
        super().__init__(graph)
        self.check_hparams({"channels": channels, "num_layers": num_layers})
        self.channels = channels
        self.num_layers = num_layers
        num_nodes = self.num_users + self.num_items
        self.lightgcn = LightGCN(num_nodes, channels, num_layers, normalize=False)
        user, item = train_edge_index(graph)
        item = item + self.num_users
        edge_index = torch.stack([torch.cat([user, item]), torch.cat([item, user])])
        # The normalized adjacency is fixed: build it once as a sparse CSR matrix (fast spmm).
        edge_index, weight = gcn_norm(edge_index, None, num_nodes, add_self_loops=False)
        adjacency = to_torch_csr_tensor(edge_index, weight, size=(num_nodes, num_nodes))
        self.register_buffer("adjacency", adjacency, persistent=False)

    def reset_parameters(self) -> None:
        self.lightgcn.reset_parameters()

    def hparams(self) -> dict[str, Any]:
        return {"channels": self.channels, "num_layers": self.num_layers}

    def encode(self) -> tuple[Tensor, Tensor]:
        out = self.lightgcn.get_embedding(self.adjacency)
        return out[: self.num_users], out[self.num_users :]

    def regularization(self, encoded: tuple[Tensor, Tensor], users: Tensor, items: Tensor) -> Tensor:
        ego = self.lightgcn.embedding.weight
        return ego[users].pow(2).sum() + ego[items + self.num_users].pow(2).sum()
