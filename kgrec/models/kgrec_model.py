"""kgrec's recommender: node features, the KG reasoner and the attention scorer in one model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple

import torch
from torch import Tensor
from torch_geometric.data import HeteroData
from torch_geometric.utils import spmm, to_torch_csr_tensor

from kgrec.graph.snapshot import INTERACTION_EDGE, Snapshot
from kgrec.models.base import RankingModel, grown_state
from kgrec.models.graph_input import training_graph
from kgrec.models.features import FEATURE_MODES, FeatureMode, NodeFeatures
from kgrec.models.hparams import CHANNELS, FLAG, LAYERS, HParam
from kgrec.models.kg_overlap import KnowledgeOverlap
from kgrec.models.reasoner import KGReasoner, ReasonedGraph
from kgrec.models.scorer import AttentionScorer, ItemSide, LikedItems, ScoreParts
from kgrec.models.sorted_keys import find_sorted, range_entries


@dataclass(frozen=True)
class AttentionWeights:
    """What the model attends to for one user and some items.

    ``relations``: names of the R item relations (``rev_<rel>`` is the view an item gets from
    the tails of its ``rel`` edges, ``INTERACTED`` the view from its users).
    ``relation_attention``: ``[R]`` the user's attention over relations (sums to 1).
    ``alpha``: ``[K]`` user-item attention in (0, 1).
    ``relation_terms``: ``[K, R]`` the part of each item's score carried by each relation.
    ``scores``: ``[K]`` the logits :math:`g`.
    ``overlaps``: names of the R' knowledge-graph overlap relations; ``overlap_terms``:
    ``[K, R']`` the part of each item's score carried by each.
    """

    relations: list[str]
    relation_attention: Tensor
    alpha: Tensor
    relation_terms: Tensor
    scores: Tensor
    overlaps: list[str]
    overlap_terms: Tensor


class KGRecEncoding(NamedTuple):
    """:meth:`KGRecModel.encode`'s output.

    ``features``: ``{t: [N_t, d]}`` layer-0 features (for the regularizer).
    ``reasoned``: the reasoner's output.
    ``items``: the scorer's :class:`~kgrec.models.scorer.ItemSide` of all ``[N_items]`` items,
    prepared once when encoding ran without autograd (serving, evaluation); ``None`` under
    autograd (training), where each score call computes the side of the items it scores.
    ``views``: ``[N_items, R, d]`` the unit z views of every item, or ``None`` for a model
    without z. ``profiles``: ``[N_users, R, d]`` each user's mean unit view of its liked (train)
    items per z relation, prepared for every user without autograd; ``None`` under autograd,
    where each score call averages the views of its own users' liked items.
    """

    features: dict[str, Tensor]
    reasoned: ReasonedGraph
    items: ItemSide | None
    views: Tensor | None = None
    profiles: Tensor | None = None


class KGRecModel(RankingModel):
    r"""Text- and KG-aware recommender.

    .. math::
        \mathbf{v}^{(0)} = \mathbf{W}[\mathbf{e}; \mathrm{Emb}(id)] \;\to\;
        \text{KGReasoner} \;\to\; (\mathbf{u}_i, \mathbf{v}_j, \mathbf{m}_{rj}) \;\to\;
        y_{ij} = \sigma(g([\mathbf{u}_i; \mathbf{v}_j; \mathbf{z}_{ij}; \alpha_{ij}]))

    :math:`\mathbf{u}_i, \mathbf{v}_j` are LightGCN embeddings of the interaction graph; the
    knowledge graph enters through :math:`\mathbf{z}_{ij}`: per relation, how alike the
    candidate and the user's liked train items are, through the item views
    :math:`\mathbf{m}_{rj}` and through the exact entities they share
    (:class:`~kgrec.models.kg_overlap.KnowledgeOverlap`), each liked item left out of its own
    match; and through the text-initialized entity features. The collaborative score is never
    diluted by the KG. Train it with the
    ``"softmax"`` loss (the logits are cosines over :math:`\tau`) or BPR.

    See :class:`~kgrec.models.features.NodeFeatures`, :class:`~kgrec.models.reasoner.KGReasoner`
    and :class:`~kgrec.models.scorer.AttentionScorer`. Ablations: ``feature_mode="id"`` (no
    text), a graph built with ``with_kg=False`` (no KG), ``use_relation_vectors=False`` (no z).

    Args:
        graph: from :func:`kgrec.models.training_graph`.
        channels: embedding size :math:`d`.
        num_layers: reasoner layers.
        feature_mode: ``"fused"``, ``"text"`` or ``"id"``.
        use_relation_vectors: include the :math:`\mathbf{z}_{ij}` field (views and overlaps).
        attention_channels: size of the reasoner's relation attention projections.
        temperature: the scorer's :math:`\tau` (0.4: chosen on ml100k's valid split).
        cosine: cosine (default) or dot-product collaborative term (see the scorer).
        id_dropout: probability of dropping a node's id embedding in training (see
            :class:`~kgrec.models.features.NodeFeatures`).
        z_interacted: include the ``INTERACTED`` view (from an item's users) among the z
            relations; without it z is built from knowledge-graph relations only.
    """

    HPARAMS = {
        "channels": CHANNELS,
        "num_layers": LAYERS,
        "feature_mode": HParam(str, choices=FEATURE_MODES),
        "use_relation_vectors": FLAG,
        "attention_channels": CHANNELS,
        "temperature": HParam(float, 0, 100, low_open=True),
        "cosine": FLAG,
        "id_dropout": HParam(float, 0, 0.99),
        "z_interacted": FLAG,
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
        id_dropout: float = 0.0,
        z_interacted: bool = True,
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
            id_dropout=id_dropout,
            z_interacted=z_interacted,
        )
        self.check_hparams(self._hparams)
        self.features = NodeFeatures(graph, channels, feature_mode, id_dropout)
        self.reasoner = KGReasoner(graph, channels, num_layers, attention_channels)
        # The z relations: a slice of the reasoner's item views (INTERACTED comes first).
        first = 0 if z_interacted else 1
        num_relations = len(self.reasoner.item_relations) - first if use_relation_vectors else 0
        self.z_views = slice(first, first + num_relations)
        self.overlap = KnowledgeOverlap(graph) if use_relation_vectors else None
        num_overlaps = self.overlap.num_relations if self.overlap is not None else 0
        self.scorer = AttentionScorer(channels, num_relations, temperature, cosine, num_overlaps)
        liked = graph[INTERACTION_EDGE].edge_index  # [2, E] user -> item, train only
        counts = torch.bincount(liked[0], minlength=self.num_users)
        mean = to_torch_csr_tensor(
            liked, counts[liked[0]].float().reciprocal(), size=(self.num_users, self.num_items)
        )
        self.register_buffer("liked_mean", mean, persistent=False)  # [U, I] row means
        self.register_buffer("liked_counts", counts, persistent=False)
        self.register_buffer("liked_keys", (liked[0] * self.num_items + liked[1]).sort().values,
                             persistent=False)

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
        return self.reasoner.relation_names[self.z_views]

    @property
    def overlap_names(self) -> list[str]:
        """The knowledge-graph overlap relations, in the order of ``overlap_terms``."""
        return self.overlap.relations if self.scorer.num_overlaps else []

    def encode(self) -> KGRecEncoding:
        """Features, reasoner output and, without autograd, the item side of the whole catalogue;
        ``score*`` calls on it reflect the parameters at encoding time. Under autograd the
        reasoner skips the entities' last layer (``x["entity"]`` then averages the layers before)."""
        x0 = self.features()
        training = torch.is_grad_enabled()  # no score reads the entities' final layer
        reasoned = self.reasoner(x0, final_entities=not training)
        views = None
        if self.scorer.num_relations:
            views = torch.nn.functional.normalize(reasoned.item_views[:, self.z_views], dim=-1)
        encoded = KGRecEncoding(x0, reasoned, None, views)
        if training:
            return encoded
        profiles = None
        if views is not None:
            profiles = spmm(self.liked_mean, views.flatten(1)).view(self.num_users, *views.shape[1:])
        return encoded._replace(items=self._items(encoded, None), profiles=profiles)

    def _profiles(self, encoded: KGRecEncoding, users: Tensor) -> Tensor:
        """``[B, R, d]`` the z profiles of ``users`` ``[B]``: prepared, or averaged from the
        views of their liked items only (cost: their train interactions, not all of them)."""
        if encoded.profiles is not None:
            return encoded.profiles.index_select(0, users)
        distinct, inverse = users.unique(return_inverse=True)
        rows, items = self._liked_rows(distinct)
        weight = self.liked_counts[distinct].float().reciprocal()[rows]
        mean = to_torch_csr_tensor(torch.stack([rows, items]), weight, size=(distinct.numel(), self.num_items))
        with torch.autocast(users.device.type, enabled=False):  # float32: a sparse matmul
            profiles = spmm(mean, encoded.views.flatten(1).float())  # [U_b, R d]
        return profiles.view(-1, *encoded.views.shape[1:]).index_select(0, inverse)

    def _items(self, encoded: KGRecEncoding, items: Tensor | None) -> ItemSide:
        """The scorer's side of ``items`` ``[K]`` (default all): indexed from the prepared
        catalogue if there is one, else computed for those items only."""
        if encoded.items is not None:
            return encoded.items if items is None else encoded.items[items]
        reasoned = encoded.reasoned
        v, views = reasoned.x["item"], reasoned.item_views[:, self.z_views]
        if items is not None:  # index_select: its backward sums repeated items deterministically
            v, views = v.index_select(0, items), views.index_select(0, items)
        return self.scorer.item_side(v, views)

    def score_parts(
        self, encoded: KGRecEncoding, users: Tensor, items: Tensor | None, parts: bool = True
    ) -> ScoreParts:
        """The scorer's output for ``users`` ``[B]`` against ``items`` ``[K]`` (default all);
        ``parts=False`` skips the ``[B, R, K]`` relation terms."""
        user = encoded.reasoned.x["user"].index_select(0, users)
        liked = overlaps = None
        if encoded.views is not None:
            liked = LikedItems(self._profiles(encoded, users), self.liked_counts[users],
                               self._liked_matrix(users, items))
            if self.scorer.num_overlaps:
                overlaps = (self.overlap(users, items), self.overlap.own(items))
        return self.scorer(user, self._items(encoded, items), parts, liked, overlaps)

    def score(self, encoded: KGRecEncoding, users: Tensor, items: Tensor | None = None) -> Tensor:
        return self.score_parts(encoded, users, items, parts=False).logits

    def score_pairs(self, encoded: KGRecEncoding, users: Tensor, items: Tensor) -> Tensor:
        liked = overlaps = None
        if encoded.views is not None:
            held_out = self._is_liked(users * self.num_items + items)  # [B]
            liked = LikedItems(self._profiles(encoded, users), self.liked_counts[users], held_out)
            if self.scorer.num_overlaps:
                overlaps = (self.overlap.pairs(users, items), self.overlap.own(items))
        user = encoded.reasoned.x["user"].index_select(0, users)
        return self.scorer.pairs(user, self._items(encoded, items), liked, overlaps)

    def _is_liked(self, keys: Tensor) -> Tensor:
        """True where a key ``user * num_items + item`` (any shape) is a train interaction."""
        return find_sorted(self.liked_keys, keys)[1]

    def _liked_rows(self, users: Tensor) -> tuple[Tensor, Tensor]:
        """``(rows, items)``: one entry per train interaction of ``users`` ``[B]``, ``rows``
        its position in ``users``; read from the users' own ranges of the sorted train keys."""
        bounds = torch.searchsorted(self.liked_keys, torch.stack([users, users + 1]) * self.num_items)
        rows, at = range_entries(bounds[0], bounds[1] - bounds[0])
        return rows, self.liked_keys[at] % self.num_items

    def _liked_matrix(self, users: Tensor, items: Tensor | None) -> Tensor:
        """``[B, K]`` true where item ``items[k]`` (default all) is a train item of ``users[b]``:
        a lookup of the ``B K`` pairs, or for all items the users' own train interactions;
        never a pass over every train interaction."""
        if items is not None:
            return self._is_liked(users.unsqueeze(1) * self.num_items + items.unsqueeze(0))
        mask = torch.zeros(users.numel(), self.num_items, dtype=torch.bool, device=users.device)
        mask[self._liked_rows(users)] = True
        return mask

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
            overlaps=self.overlap_names,
            overlap_terms=parts.overlap_terms[0].t(),
        )

    @torch.no_grad()
    def node_embeddings(self) -> dict[str, Tensor]:
        """``{t: [N_t, d]}`` final embeddings of users, items and entities."""
        return self.encode().reasoned.x

    # -- cold start: nodes added after training (kgrec.cold) ------------------------------------
    INDUCTIVE = True

    def grown(
        self, snapshot: Snapshot, rows: Mapping[str, Tensor], text: Mapping[str, Tensor | None]
    ) -> "KGRecModel":
        r"""The same model re-built on the grown graph with the trained parameters (see
        :meth:`RankingModel.grown`). A new node's layer-0 feature is its text projection alone
        (its id embedding row is zero: what the model sees for a node whose id term is
        dropped); the reasoner then propagates as for every node, so a new user's layer
        :math:`l+1` is the normalized sum of its liked items' layer :math:`l`, and a new item's
        relation views come from its KG neighbours. Re-running the whole reasoner is exact
        (neighbours' degrees and attention include the new node)."""
        graph = training_graph(snapshot, dict(text), with_kg=len(self.reasoner.convs) > 0)
        model = type(self)(graph, **self.hparams())
        sizes = {t: snapshot.num_nodes(t) for t in rows}
        model.load_state_dict(grown_state(self, model, rows, sizes))
        return model.eval()
