"""Explanations: path ranking by the model's attention, sentences, and HTML pictures."""

from kgrec.explain.explanation import ExplainedPath, Explanation, Recommendation
from kgrec.explain.ranking import PathRanker
from kgrec.explain.sentences import SentenceBuilder

__all__ = ["ExplainedPath", "Explanation", "PathRanker", "Recommendation", "SentenceBuilder"]
