"""Layer-0 node features: text vectors fused with learnable id embeddings."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

FeatureMode = Literal["fused", "text", "id"]


class NodeFeatures(torch.nn.Module):
    r"""Per node type :math:`t`, the features

    .. math::
        \mathbf{v}_k = \mathbf{W}_t [\mathbf{e}_k ; \mathrm{Emb}_t(k)]
                     = \mathbf{W}^{\text{text}}_t \mathbf{e}_k + \mathrm{Emb}_t(k)

    (the id block of :math:`\mathbf{W}_t` is the identity: ``Emb`` is free, so nothing is lost).
    ``mode="text"`` keeps the text term, ``"id"`` the id term, ``"fused"`` both; a node type with
    no ``text`` in ``graph`` is id-only whatever the mode.

    Args:
        graph: node types, ``num_nodes`` and optional ``text`` ``[N_t, d_text]``.
        channels: output size :math:`d`.
        mode: ``"fused"``, ``"text"`` or ``"id"``.

    Shapes: :meth:`forward` returns ``{t: [N_t, d]}``.
    """

    def __init__(self, graph: HeteroData, channels: int, mode: FeatureMode = "fused") -> None:
        super().__init__()
        if mode not in ("fused", "text", "id"):
            raise ValueError(f"mode must be 'fused', 'text' or 'id', got {mode!r}")
        self.mode = mode
        self.text_proj = torch.nn.ModuleDict()
        self.id_emb = torch.nn.ModuleDict()
        for t in graph.node_types:
            text = graph[t].get("text") if mode != "id" else None
            if text is not None:
                self.register_buffer(f"text_{t}", text)
                self.text_proj[t] = torch.nn.Linear(text.size(1), channels, bias=False)
            if text is None or mode == "fused":
                self.id_emb[t] = torch.nn.Embedding(graph[t].num_nodes, channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for emb in self.id_emb.values():
            torch.nn.init.normal_(emb.weight, std=0.1)
        for lin in self.text_proj.values():
            torch.nn.init.xavier_uniform_(lin.weight)

    def forward(self) -> dict[str, Tensor]:
        out: dict[str, Tensor] = {}
        for t in self.text_proj:
            out[t] = self.text_proj[t](getattr(self, f"text_{t}"))
        for t, emb in self.id_emb.items():
            out[t] = out[t] + emb.weight if t in out else emb.weight
        return out
