"""The integer-id knowledge graphs of the KGAT/KGIN and KGCN/RippleNet benchmarks.

``kg_final.txt`` holds whitespace-separated ``head relation tail`` integers. Items are the first
entities: an entity id below ``n_items`` IS that item, so its triples start or end at the Item
node; larger ids are Entity nodes. Relation ``k`` is stored as ``r<k>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Container, Mapping

from kgrec.graph import NodeLabel, Triple

from ._io import read_rows


def relation_name(index: int) -> str:
    return f"r{index}"


@dataclass(frozen=True, slots=True)
class NumericKg:
    """Triples, the ids of the entities that are not items, and ``{source relation: name}``."""

    triples: list[Triple]
    entities: list[int]
    relations: dict[str, str]


def read_numeric_kg(
    path: Path,
    n_items: int,
    *,
    entity_ids: Container[int] | None = None,
    relation_sources: Mapping[int, str] | None = None,
) -> NumericKg:
    """Read ``path``. ``entity_ids`` (when given) lists the valid non-item ids; other ids are a
    :class:`DataFormatError`. ``relation_sources`` names relation ids in the report mapping
    (default: the id itself)."""
    sources = relation_sources or {}
    triples, entities, used = [], set(), set()
    for row in read_rows(path, None, fields=3):
        head = row.integer(0, "head entity id", minimum=0)
        relation = row.integer(1, "relation id", minimum=0)
        tail = row.integer(2, "tail entity id", minimum=0)
        labels = []
        for entity in (head, tail):
            if entity < n_items:
                labels.append(NodeLabel.ITEM)
                continue
            if entity_ids is not None and entity not in entity_ids:
                raise row.error(f"unknown entity id {entity}")
            labels.append(NodeLabel.ENTITY)
            entities.add(entity)
        used.add(relation)
        triples.append(Triple(str(head), relation_name(relation), str(tail), *labels))
    relations = {sources.get(r, str(r)): relation_name(r) for r in sorted(used)}
    return NumericKg(triples, sorted(entities), relations)
