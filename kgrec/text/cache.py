"""An on-disk cache of text vectors keyed by the SHA-256 of (encoder fingerprint, text)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Protocol, Sequence

import torch
from safetensors.torch import load_file, save_file

log = logging.getLogger(__name__)


class FingerprintedEncoder(Protocol):
    """An encoder whose ``fingerprint`` changes whenever its vectors would (a
    :class:`~kgrec.text.TextEncoder`: model weights, pooling, normalization, max_length)."""

    fingerprint: str

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> torch.Tensor: ...


def content_hash(fingerprint: str, text: str) -> str:
    """Hex SHA-256 of the encoder fingerprint and the text: the cache key of one vector."""
    return hashlib.sha256(f"{fingerprint}\x00{text}".encode()).hexdigest()


class EmbeddingCache:
    """Text vectors of one encoder configuration, stored as one safetensors file under ``cache_dir``.

    :meth:`encode` returns the cached vector of every text seen before and encodes only the
    new ones, then rewrites the file. Keys are :func:`content_hash` of the encoder's
    ``fingerprint``, so a changed text, model, pooling, normalization or ``max_length`` never
    reuses a stale vector.
    """

    def __init__(self, encoder: FingerprintedEncoder, cache_dir: str | Path) -> None:
        self.encoder = encoder
        self.cache_dir = Path(cache_dir)
        self.path = self.cache_dir / f"text-vectors-{encoder.fingerprint[:16]}.safetensors"
        self._vectors: dict[str, torch.Tensor] = load_file(self.path) if self.path.exists() else {}

    def __len__(self) -> int:
        return len(self._vectors)

    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        """``[len(texts), dim]`` vectors, equal to ``encoder.encode(texts)``."""
        keys = [content_hash(self.encoder.fingerprint, t) for t in texts]
        new = {k: t for k, t in zip(keys, texts) if k not in self._vectors}
        if new:
            vectors = self.encoder.encode(list(new.values()))
            self._vectors.update(zip(new.keys(), vectors))
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            save_file({k: v.contiguous() for k, v in self._vectors.items()}, str(self.path))
            log.info("encoded %d new texts, %d cached", len(new), len(texts) - len(new))
        if not keys:
            return torch.empty(0, self.encoder.dim)
        return torch.stack([self._vectors[k] for k in keys])
