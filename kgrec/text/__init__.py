"""Text to vectors: a transformers sentence encoder, its on-disk cache, per-node vectors."""

from kgrec.text.cache import EmbeddingCache, content_hash
from kgrec.text.encoder import TextEncoder, default_model_path
from kgrec.text.node_vectors import node_text_vectors
from kgrec.text.pooling import POOLING_MODES, SentenceLayout, read_layout

__all__ = [
    "POOLING_MODES", "EmbeddingCache", "SentenceLayout", "TextEncoder", "content_hash",
    "default_model_path", "node_text_vectors", "read_layout",
]
