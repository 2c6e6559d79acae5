"""Fixtures: the small film graph (tests/conversation/films.py) on the embedded store, its
linker and parser, and a deterministic stand-in for a text encoder."""

from __future__ import annotations

import hashlib
from typing import Sequence

import pytest
import torch

from kgrec import MemoryGraphStore
from kgrec.conversation import EntityLinker, RequestParser
from kgrec.conversation.words import fold

from .films import film_graph


class TrigramEncoder:
    """``encode(texts) -> [n, 64]``: L2-normalized counts of hashed character trigrams of the
    folded text. Texts that share spelling are near; no model, no download, exact on CPU."""

    dim = 64

    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        out = torch.zeros(len(texts), self.dim)
        for row, text in enumerate(texts):
            padded = f"  {fold(text)}  "
            for k in range(len(padded) - 2):
                digest = hashlib.blake2b(padded[k : k + 3].encode(), digest_size=2).digest()
                out[row, int.from_bytes(digest, "big") % self.dim] += 1.0
        return torch.nn.functional.normalize(out, dim=1)


@pytest.fixture
def film_store() -> MemoryGraphStore:
    store = MemoryGraphStore()
    film_graph(store)
    return store


@pytest.fixture
def linker(film_store) -> EntityLinker:
    return EntityLinker(film_store.snapshot())


@pytest.fixture
def parser(linker) -> RequestParser:
    return RequestParser(linker)


def said(request, field: str) -> list[tuple[str, str]]:
    """``(phrase, node name)`` of a request's mentions in ``field``."""
    return [(m.phrase, m.name) for m in getattr(request, field)]
