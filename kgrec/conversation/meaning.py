"""Linking by meaning: the text vectors of nodes in a store's vector index, searched with the
vector of a phrase ("gangsters" -> Crime).

The vectors live in the store, under :data:`TEXT_VECTOR_PROPERTY`, with one vector index per
label: Neo4j searches its HNSW index, the embedded store searches exactly, and the candidates
either proposes are scored exactly from their stored vectors, so that both stores give the same
nodes with the same scores (ties broken by label, then id).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import torch

from kgrec.checks import int_in_range
from kgrec.errors import InvalidValueError, shown
from kgrec.graph.schema import NodeLabel
from kgrec.graph.snapshot import Snapshot, id_order
from kgrec.graph.store import GraphStore
from kgrec.text.node_vectors import Encodes

log = logging.getLogger(__name__)

#: The node property that holds text vectors for linking (model embeddings use ``embedding``).
TEXT_VECTOR_PROPERTY = "embedding_text"

#: The least similarity, ``(1 + cos) / 2``, of a meaning match. Measured with all-MiniLM-L6-v2
#: over the 6,303 ml100k entities (genres, people, companies): a surname or a description of one
#: node scores above it ("kubrick" -> Stanley Kubrick 0.97, "tarantino" 0.96, "a musical" ->
#: Musical 0.89, "spacey" -> Kevin Spacey 0.83, "science fiction" -> Sci-Fi 0.83); short
#: phrases that name nothing land on look-alike names below it ("kids" -> Kid 'n Play 0.80,
#: "tom cruse" -> Keith Crofford 0.82, "dinosaurs" -> Dino De Laurentiis 0.78, "gangsters" ->
#: Wu Gang 0.76, "Ich möchte einen Film" 0.73, "DETACH DELETE n" 0.67). Spelling and aliases
#: are tried before meaning, so "kids" and "tom cruse" still link, to the right nodes.
MEANING_THRESHOLD = 0.83

#: How many nodes per label the store's vector index proposes for exact scoring.
CANDIDATES = 50

#: The least lead of the best node over the second: a phrase about as near to two nodes names
#: neither ("hitchcock": Alfred Hitchcock 0.970, Michael Hitchcock 0.955).
MEANING_MARGIN = 0.02


@dataclass(frozen=True, slots=True)
class MeaningHit:
    """A node whose text vector is near a phrase's: its ``label``, ``id`` and similarity."""

    label: NodeLabel
    id: str
    score: float


class MeaningSearch:
    """Finds the node a phrase means, through ``store``'s vector indexes on ``property`` of
    ``labels`` (entities by default: an item is named by its title; a description such as "a
    crime drama" asks for a kind of film, not for one film whose text reads alike).

    ``encoder`` is anything with ``encode(list[str]) -> Tensor [n, d]`` (a
    :class:`~kgrec.text.TextEncoder`); it must be the one :meth:`index` wrote the vectors with.
    A phrase is linked when its best node scores at least ``threshold`` and leads the second
    by ``margin`` (see :data:`MEANING_THRESHOLD`). Searching reads the store, never writes.
    """

    def __init__(
        self,
        store: GraphStore,
        encoder: Encodes,
        *,
        labels: Sequence[NodeLabel | str] = (NodeLabel.ENTITY,),
        property: str = TEXT_VECTOR_PROPERTY,
        threshold: float = MEANING_THRESHOLD,
        margin: float = MEANING_MARGIN,
    ) -> None:
        self.store = store
        self.encoder = encoder
        self.labels = tuple(dict.fromkeys(NodeLabel.parse(label) for label in labels))
        if not self.labels or NodeLabel.USER in self.labels:
            raise InvalidValueError(f"labels must be items and/or entities, got {shown(labels)}")
        self.property = property
        for value, what in ((threshold, "threshold"), (margin, "margin")):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise InvalidValueError(f"{what} must be a number in [0, 1], got {shown(value)}")
        self.threshold = float(threshold)
        self.margin = float(margin)

    def index(self, snapshot: Snapshot, vectors: Mapping[str, torch.Tensor | None] | None = None) -> int:
        """Write the text vector of every node of :attr:`labels` in ``snapshot`` that has text
        or a name, and create the cosine vector indexes (rebuilt when their dimension changed).
        ``vectors`` are ``{node type: [N, d]}`` rows aligned with ``snapshot`` as
        :func:`~kgrec.text.node_text_vectors` makes them (e.g. the model's text features,
        encoded through an :class:`~kgrec.text.EmbeddingCache`); without them the texts (names
        when there is no text) are encoded here. Returns the number of vectors written."""
        written = 0
        for label in self.labels:
            texts = [t or n for t, n in zip(snapshot.node_text[label.key], snapshot.node_name[label.key])]
            rows = [k for k, text in enumerate(texts) if text]
            if not rows:
                continue
            if vectors is None:
                matrix = self.encoder.encode([texts[k] for k in rows])
            else:
                full = vectors.get(label.key)
                if full is None or full.dim() != 2 or full.size(0) != len(texts):
                    raise InvalidValueError(
                        f"vectors[{label.key!r}] must be a [{len(texts)}, d] tensor aligned with the "
                        f"snapshot, got {None if full is None else list(full.shape)}"
                    )
                matrix = full[rows]
            matrix = matrix.detach().cpu().numpy()
            ids = [snapshot.node_ids[label.key][k] for k in rows]
            self.store.write_embeddings(label, ids, matrix, property=self.property)
            self.store.create_vector_index(
                label, matrix.shape[1], "cosine", property=self.property, replace=True
            )
            written += len(rows)
        log.info("wrote %d text vectors for linking by meaning", written)
        return written

    def nearest(self, phrase: str, k: int = 2) -> list[MeaningHit]:
        """The ``k`` nodes nearest to ``phrase`` over all :attr:`labels`, best first (ties by
        label, then id). The store's index proposes :data:`CANDIDATES` nodes per label; their
        stored vectors are then scored exactly here, so both stores give the same scores
        (Neo4j's own scores come from quantized vectors and its HNSW search is approximate)."""
        int_in_range(k, "k")
        query = self.encoder.encode([phrase]).detach().cpu().numpy()[0].astype(np.float64)
        query_norm = float(np.linalg.norm(query)) or 1.0
        hits = []
        for label in self.labels:
            found = self.store.query_vector_index(label, query, max(k, CANDIDATES), property=self.property)
            if not found:
                continue
            ids = [node_id for node_id, _ in found]
            vectors = self.store.read_embeddings(label, ids, property=self.property).astype(np.float64)
            norms = np.linalg.norm(vectors, axis=1) * query_norm
            cosines = vectors @ query / np.where(norms > 0, norms, 1.0)
            hits += [MeaningHit(label, i, float((1.0 + c) / 2.0)) for i, c in zip(ids, cosines)]
        hits.sort(key=lambda h: (-h.score, h.label.value, id_order(h.id)))
        return hits[:k]

    def best(self, phrase: str) -> MeaningHit | None:
        """The node ``phrase`` means, or ``None`` when none is near enough or two are about
        as near."""
        hits = self.nearest(phrase, 2)
        if not hits or hits[0].score < self.threshold:
            return None
        if len(hits) > 1 and hits[0].score - hits[1].score < self.margin:
            return None
        return hits[0]
