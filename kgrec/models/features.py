"""Layer-0 node features: text vectors fused with learnable id embeddings."""

from __future__ import annotations

from typing import Literal, Mapping, get_args

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from kgrec.graph.snapshot import NODE_TYPES

FeatureMode = Literal["fused", "text", "id"]
FEATURE_MODES: tuple[str, ...] = get_args(FeatureMode)

#: The buffer holding node type ``t``'s text vectors: ``TEXT_BUFFER + t``.
TEXT_BUFFER = "text_"


class NodeFeatures(torch.nn.Module):
    r"""Per node type :math:`t`, the features

    .. math::
        \mathbf{v}_k = \mathbf{W}_t [\mathbf{e}_k ; \mathrm{Emb}_t(k)]
                     = \mathbf{W}^{\text{text}}_t \mathbf{e}_k + \mathrm{Emb}_t(k)

    (the id block of :math:`\mathbf{W}_t` is the identity: ``Emb`` is free, so nothing is lost).
    ``mode="text"`` keeps the text term, ``"id"`` the id term, ``"fused"`` both; a node type with
    no ``text`` in ``graph`` is id-only whatever the mode.

    With ``id_dropout`` :math:`p > 0`, in training mode each node of a type that has both terms
    loses its id term with probability :math:`p` (the whole row, unscaled), so text and the graph
    must stand in for it, as they do for a node the model never saw; in eval mode every node
    keeps both terms and the output is deterministic.

    Args:
        graph: node types, ``num_nodes`` and optional ``text`` ``[N_t, d_text]``.
        channels: output size :math:`d`.
        mode: ``"fused"``, ``"text"`` or ``"id"``.
        id_dropout: :math:`p` in [0, 1).

    Shapes: :meth:`forward` returns ``{t: [N_t, d]}``.
    """

    def __init__(
        self, graph: HeteroData, channels: int, mode: FeatureMode = "fused", id_dropout: float = 0.0
    ) -> None:
        super().__init__()
        if mode not in ("fused", "text", "id"):
            raise ValueError(f"mode must be one of {list(FEATURE_MODES)}, got {mode!r}")
        if not 0.0 <= id_dropout < 1.0:
            raise ValueError(f"id_dropout must be in [0, 1), got {id_dropout!r}")
        self.mode = mode
        self.id_dropout = id_dropout
        self.text_proj = torch.nn.ModuleDict()
        self.id_emb = torch.nn.ModuleDict()
        for t in graph.node_types:
            text = graph[t].get("text") if mode != "id" else None
            if text is not None:
                self.register_buffer(TEXT_BUFFER + t, text)
                self.text_proj[t] = torch.nn.Linear(text.size(1), channels, bias=False)
            if text is None or mode == "fused":
                self.id_emb[t] = torch.nn.Embedding(graph[t].num_nodes, channels)
        self.reset_parameters()

    @staticmethod
    def saved_text(state: Mapping[str, Tensor], prefix: str = "") -> dict[str, Tensor]:
        """``{t: [N_t, d_text]}``: the text buffers of the node types in a ``state_dict``
        saved with keys ``prefix + "text_<t>"``."""
        keys = {t: prefix + TEXT_BUFFER + t for t in NODE_TYPES}
        return {t: state[key] for t, key in keys.items() if key in state}

    def reset_parameters(self) -> None:
        for emb in self.id_emb.values():
            torch.nn.init.normal_(emb.weight, std=0.1)
        for lin in self.text_proj.values():
            torch.nn.init.xavier_uniform_(lin.weight)

    def forward(self) -> dict[str, Tensor]:
        out: dict[str, Tensor] = {}
        for t in self.text_proj:
            out[t] = self.text_proj[t](getattr(self, TEXT_BUFFER + t))
        for t, emb in self.id_emb.items():
            if t not in out:
                out[t] = emb.weight
            elif self.training and self.id_dropout > 0:
                keep = torch.rand(emb.num_embeddings, 1, device=emb.weight.device) >= self.id_dropout
                out[t] = out[t] + emb.weight * keep
            else:
                out[t] = out[t] + emb.weight
        return out
