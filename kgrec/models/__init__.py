"""Recommender models: kgrec's KG- and text-aware model and the baselines, one contract."""

from kgrec.models.base import DotProductRanker, RankingModel
from kgrec.models.bpr_mf import MatrixFactorization
from kgrec.models.ease import EASE
from kgrec.models.features import NodeFeatures
from kgrec.models.graph_input import training_graph
from kgrec.models.kgrec_model import AttentionWeights, KGRecEncoding, KGRecModel
from kgrec.models.lightgcn import LightGCNRanker
from kgrec.models.popularity import Popularity
from kgrec.models.reasoner import KGReasoner, ReasonedGraph
from kgrec.models.relation_attention_conv import RelationAttentionConv
from kgrec.models.scorer import AttentionScorer, ItemSide, ScoreParts

#: Model classes by name: what a checkpoint's ``config.json`` refers to.
MODELS: dict[str, type[RankingModel]] = {
    cls.__name__: cls for cls in (KGRecModel, MatrixFactorization, LightGCNRanker, Popularity, EASE)
}

__all__ = [
    "MODELS",
    "AttentionScorer",
    "DotProductRanker",
    "EASE",
    "AttentionWeights",
    "ItemSide",
    "KGReasoner",
    "KGRecEncoding",
    "KGRecModel",
    "LightGCNRanker",
    "MatrixFactorization",
    "NodeFeatures",
    "Popularity",
    "RankingModel",
    "ReasonedGraph",
    "RelationAttentionConv",
    "ScoreParts",
    "training_graph",
]
