"""The lines of the embedded store's journal (:mod:`kgrec.graph.memory_file`): one JSON
object per write batch, ``{"op": ..., ...}``, and what decides whether a write changes the
store (only those rows are appended)."""

from __future__ import annotations

import dataclasses
import itertools
import json
from typing import Any, Iterator, Sequence

import numpy as np

from kgrec.graph.records import Interaction, NodeRecord, Triple
from kgrec.graph.schema import NodeLabel
from kgrec.graph.store import DEFAULT_BATCH_SIZE

#: The journal's operations.
OPS = frozenset(
    {"nodes", "interactions", "triples", "embeddings", "vector_index", "drop_vector_index", "clear"}
)


def encode(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def chunks(rows, size: int = DEFAULT_BATCH_SIZE) -> Iterator[list]:
    rows = iter(rows)
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


def node_changes(node, record: NodeRecord) -> bool:
    """Whether upserting ``record`` changes the stored ``node`` (``None`` text or name keep
    the stored one; properties are merged)."""
    return (
        (record.text is not None and record.text != node.text)
        or (record.name is not None and record.name != node.name)
        or any(node.properties.get(k, _ABSENT) != v for k, v in record.properties.items())
    )


_ABSENT = object()


def triple_key(t: Triple) -> tuple:
    return (t.head_label, t.head, t.relation, t.tail_label, t.tail)


def triple_row(t: Triple) -> list:
    return [t.head_label.value, t.head, t.relation, t.tail_label.value, t.tail]


#: An interaction's fields, in the order of a journal row (written in each entry).
INTERACTION_FIELDS = [f.name for f in dataclasses.fields(Interaction)]


def interaction_entry(rows: Sequence[Interaction]) -> dict[str, Any]:
    return {
        "op": "interactions",
        "fields": INTERACTION_FIELDS,
        "rows": [[getattr(r, name) for name in INTERACTION_FIELDS] for r in rows],
    }


def embedding_entry(
    label: NodeLabel, property: str, rows: Sequence[tuple[str, np.ndarray]]
) -> dict[str, Any]:
    return {
        "op": "embeddings",
        "label": label.value,
        "property": property,
        "rows": [[i, np.asarray(v, dtype=np.float32).tolist()] for i, v in rows],
    }


def index_entry(name: str, index: tuple[NodeLabel, int, str, str]) -> dict[str, Any]:
    label, dimensions, similarity, property = index
    return {
        "op": "vector_index",
        "name": name,
        "label": label.value,
        "dimensions": dimensions,
        "similarity": similarity,
        "property": property,
    }
