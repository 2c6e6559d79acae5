"""Text to vectors: a transformers sentence encoder, its on-disk cache, per-node vectors."""

from kgrec.text.cache import EmbeddingCache, content_hash
from kgrec.text.encoder import TextEncoder, default_model_path
from kgrec.text.node_vectors import node_text_vectors

__all__ = ["EmbeddingCache", "TextEncoder", "content_hash", "default_model_path", "node_text_vectors"]
