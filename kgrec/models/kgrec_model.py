"""kgrec's recommender: node features, the KG reasoner and the attention scorer in one model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from kgrec.models.base import RankingModel
from kgrec.models.features import FEATURE_MODES, FeatureMode, NodeFeatures
from kgrec.models.hparams import CHANNELS, FLAG, LAYERS, HParam
from kgrec.models.reasoner import KGReasoner, ReasonedGraph
from kgrec.models.scorer import AttentionScorer, ItemSide, ScoreParts


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


class KGRecEncoding(NamedTuple):
    """:meth:`KGRecModel.encode`'s output.

    ``features``: ``{t: [N_t, d]}`` layer-0 features (for the regularizer).
    ``reasoned``: the reasoner's output.
    ``items``: the scorer's :class:`~kgrec.models.scorer.ItemSide` of all ``[N_items]`` items,
    prepared once when encoding ran without autograd (serving, evaluation); ``None`` under
    autograd (training), where each score call computes the side of the items it scores.
    """

    features: dict[str, Tensor]
    reasoned: ReasonedGraph
    items: ItemSide | None


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

    HPARAMS = {
        "channels": CHANNELS,
        "num_layers": LAYERS,
        "feature_mode": HParam(str, choices=FEATURE_MODES),
        "use_relation_vectors": FLAG,
        "attention_channels": CHANNELS,
        "temperature": HParam(float, 0, 100, low_open=True),
        "cosine": FLAG,
    }

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
        self.check_hparams(self._hparams)
        self.features = NodeFeatures(graph, channels, feature_mode)
        self.reasoner = KGReasoner(graph, channels, num_layers, attention_channels)
        num_relations = len(self.reasoner.item_relations) if use_relation_vectors else 0
        self.scorer = AttentionScorer(channels, num_relations, temperature, cosine)

    def hparams(self) -> dict[str, Any]:
        return dict(self._hparams)

    @classmethod
    def saved_text(cls, state: Mapping[str, Tensor]) -> dict[str, Tensor]:
        return NodeFeatures.saved_text(state, prefix="features.")

    def reset_parameters(self) -> None:
        self.features.reset_parameters()
        self.reasoner.reset_parameters()
        self.scorer.reset_parameters()

    @property
    def relation_names(self) -> list[str]:
        return self.reasoner.relation_names if self.scorer.num_relations else []

    def encode(self) -> KGRecEncoding:
        """Features, reasoner output and, without autograd, the item side of the whole catalogue;
        ``score*`` calls on it reflect the parameters at encoding time."""
        x0 = self.features()
        encoded = KGRecEncoding(x0, self.reasoner(x0), None)
        if torch.is_grad_enabled():
            return encoded
        return encoded._replace(items=self._items(encoded, None))

    def _items(self, encoded: KGRecEncoding, items: Tensor | None) -> ItemSide:
        """The scorer's side of ``items`` ``[K]`` (default all): indexed from the prepared
        catalogue if there is one, else computed for those items only."""
        if encoded.items is not None:
            return encoded.items if items is None else encoded.items[items]
        index = slice(None) if items is None else items
        reasoned = encoded.reasoned
        views = reasoned.item_views[index, : self.scorer.num_relations]
        return self.scorer.item_side(reasoned.x["item"][index], views)

    def score_parts(
        self, encoded: KGRecEncoding, users: Tensor, items: Tensor | None, parts: bool = True
    ) -> ScoreParts:
        """The scorer's output for ``users`` ``[B]`` against ``items`` ``[K]`` (default all);
        ``parts=False`` skips the ``[B, R, K]`` relation terms."""
        user = encoded.reasoned.x["user"][users]
        return self.scorer(user, self._items(encoded, items), parts)

    def score(self, encoded: KGRecEncoding, users: Tensor, items: Tensor | None = None) -> Tensor:
        return self.score_parts(encoded, users, items, parts=False).logits

    def score_pairs(self, encoded: KGRecEncoding, users: Tensor, items: Tensor) -> Tensor:
        return self.scorer.pairs(encoded.reasoned.x["user"][users], self._items(encoded, items))

    def regularization(self, encoded: KGRecEncoding, users: Tensor, items: Tensor) -> Tensor:
        x0 = encoded.features
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
        return self.encode().reasoned.x
