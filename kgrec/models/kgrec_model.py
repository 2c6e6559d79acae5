"""kgrec's recommender: node features, the KG reasoner and the attention scorer in one model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from kgrec.models.base import RankingModel
from kgrec.models.features import FeatureMode, NodeFeatures
from kgrec.models.reasoner import KGReasoner, ReasonedGraph
from kgrec.models.scorer import AttentionScorer, ScoreParts


@dataclass(frozen=True)
class AttentionWeights:
    """What the model attends to for one user and some items.

    ``relations``: names of the R item relations (``rev_<rel>`` is the view an item gets from
    the tails of its ``rel`` edges, ``INTERACTED`` the view from its users).
    ``relation_attention``: ``[R]`` the user's attention over relations (sums to 1).
    ``alpha``: ``[K]`` user-item attention in (0, 1).
    ``relation_terms``: ``[K, R]`` the part of each item's score carried by each relation.
    ``scores``: ``[K]`` the logits :math:`g`.
    """

    relations: list[str]
    relation_attention: Tensor
    alpha: Tensor
    relation_terms: Tensor
    scores: Tensor


class KGRecModel(RankingModel):
    r"""Text- and KG-aware recommender.

    .. math::
        \mathbf{v}^{(0)} = \mathbf{W}[\mathbf{e}; \mathrm{Emb}(id)] \;\to\;
        \text{KGReasoner} \;\to\; (\mathbf{u}_i, \mathbf{v}_j, \mathbf{m}_{rj}) \;\to\;
        y_{ij} = \sigma(g([\mathbf{u}_i; \mathbf{v}_j; \mathbf{z}_{ij}; \alpha_{ij}]))

    :math:`\mathbf{u}_i, \mathbf{v}_j` are LightGCN embeddings of the interaction graph; the
    knowledge graph enters through the item views :math:`\mathbf{m}_{rj}` behind
    :math:`\mathbf{z}_{ij}` and through the text-initialized entity features, so the
    collaborative score is never diluted by the KG. Train it with the ``"softmax"`` loss (the
    logits are cosines over :math:`\tau`) or BPR.

    See :class:`~kgrec.models.features.NodeFeatures`, :class:`~kgrec.models.reasoner.KGReasoner`
    and :class:`~kgrec.models.scorer.AttentionScorer`. Ablations: ``feature_mode="id"`` (no
    text), a graph built with ``with_kg=False`` (no KG), ``use_relation_vectors=False`` (no z).

    Args:
        graph: from :func:`kgrec.models.training_graph`.
        channels: embedding size :math:`d`.
        num_layers: reasoner layers.
        feature_mode: ``"fused"``, ``"text"`` or ``"id"``.
        use_relation_vectors: include the :math:`\mathbf{z}_{ij}` field.
        attention_channels: size of the reasoner's relation attention projections.
        temperature: the scorer's :math:`\tau` (0.4: chosen on ml100k's valid split).
        cosine: cosine (default) or dot-product collaborative term (see the scorer).
    """

    def __init__(
        self,
        graph: HeteroData,
        channels: int = 64,
        num_layers: int = 2,
        feature_mode: FeatureMode = "fused",
        use_relation_vectors: bool = True,
        attention_channels: int = 32,
        temperature: float = 0.4,
        cosine: bool = True,
    ) -> None:
        super().__init__(graph)
        self._hparams = dict(
            channels=channels,
            num_layers=num_layers,
            feature_mode=feature_mode,
            use_relation_vectors=use_relation_vectors,
            attention_channels=attention_channels,
            temperature=temperature,
            cosine=cosine,
        )
        self.features = NodeFeatures(graph, channels, feature_mode)
        self.reasoner = KGReasoner(graph, channels, num_layers, attention_channels)
        num_relations = len(self.reasoner.item_relations) if use_relation_vectors else 0
        self.scorer = AttentionScorer(channels, num_relations, temperature, cosine)

    def hparams(self) -> dict[str, Any]:
        return dict(self._hparams)

    def reset_parameters(self) -> None:
        self.features.reset_parameters()
        self.reasoner.reset_parameters()
        self.scorer.reset_parameters()

    @property
    def relation_names(self) -> list[str]:
        return self.reasoner.relation_names if self.scorer.num_relations else []

    def encode(self) -> tuple[dict[str, Tensor], ReasonedGraph]:
        """``(layer-0 features {t: [N_t, d]}, reasoner output)``."""
        x0 = self.features()
        return x0, self.reasoner(x0)

    def score_parts(
        self,
        encoded: tuple[dict[str, Tensor], ReasonedGraph],
        users: Tensor,
        items: Tensor | None,
        parts: bool = True,
    ) -> ScoreParts:
        """The scorer's output for ``users`` ``[B]`` against ``items`` ``[K]`` (default all);
        ``parts=False`` skips the ``[B, R, K]`` relation terms."""
        reasoned = encoded[1]
        v, views = reasoned.x["item"], reasoned.item_views
        if items is not None:
            v, views = v[items], views[items]
        if self.scorer.num_relations == 0:
            views = views[:, :0]
        return self.scorer(reasoned.x["user"][users], v, views, parts)

    def score(
        self,
        encoded: tuple[dict[str, Tensor], ReasonedGraph],
        users: Tensor,
        items: Tensor | None = None,
    ) -> Tensor:
        return self.score_parts(encoded, users, items, parts=False).logits

    def score_pairs(
        self, encoded: tuple[dict[str, Tensor], ReasonedGraph], users: Tensor, items: Tensor
    ) -> Tensor:
        reasoned = encoded[1]
        views = reasoned.item_views[items]
        if self.scorer.num_relations == 0:
            views = views[:, :0]
        return self.scorer.pairs(reasoned.x["user"][users], reasoned.x["item"][items], views)

    def regularization(
        self, encoded: tuple[dict[str, Tensor], ReasonedGraph], users: Tensor, items: Tensor
    ) -> Tensor:
        x0 = encoded[0]
        return x0["user"][users].pow(2).sum() + x0["item"][items].pow(2).sum()

    @torch.no_grad()
    def explain(self, user: int, items: Tensor) -> AttentionWeights:
        """Relation attention, alpha and per-relation score terms of ``user`` for ``items`` ``[K]``."""
        parts = self.score_parts(self.encode(), torch.tensor([user]), items)
        return AttentionWeights(
            relations=self.relation_names,
            relation_attention=parts.relation_attention[0],
            alpha=parts.alpha[0],
            relation_terms=parts.relation_terms[0].t(),
            scores=parts.logits[0],
        )

    @torch.no_grad()
    def node_embeddings(self) -> dict[str, Tensor]:
        """``{t: [N_t, d]}`` final embeddings of users, items and entities."""
        return self.encode()[1].x
