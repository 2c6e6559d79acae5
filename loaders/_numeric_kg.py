"""The integer-id knowledge graphs of the KGAT/KGIN and KGCN/RippleNet benchmarks.

``kg_final.txt`` holds whitespace-separated ``head relation tail`` integers (each at most
:data:`~loaders._io.MAX_ID`). The loader says which entity ids are items (``item_of``); their
triples start or end at that Item node, and every other id is an Entity node with that id.
Only ids that occur become nodes, so one large id costs one node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Container, Mapping

from kgrec.graph import NodeLabel, Triple

from ._io import read_rows
from ._relations import RelationNames


@dataclass(slots=True)
class NumericKg:
    """Triples, the item ids they reach, the ids of the entities that are not items, the number
    of triples skipped (relations mapped to ``None``) and ``{source relation: name}``."""

    triples: list[Triple] = field(default_factory=list)
    items: set[str] = field(default_factory=set)
    entities: list[int] = field(default_factory=list)
    skipped: int = 0
    relations: dict[str, str] = field(default_factory=dict)


def read_numeric_kg(
    path: Path,
    item_of: Callable[[int], str | None],
    names: RelationNames,
    *,
    entity_ids: Container[int] | None = None,
    relation_sources: Mapping[int, str] | None = None,
) -> NumericKg:
    """Read ``path``. ``item_of(entity id)`` is the item id it stands for, or None for an
    Entity. ``entity_ids`` (when given) lists the valid non-item ids; other ids are a
    :class:`DataFormatError`. Relation ``k`` is named by ``names`` from its source
    ``relation_sources[k]`` (default ``str(k)``, which becomes ``r<k>``)."""
    sources = relation_sources or {}
    kg, entities = NumericKg(), set()
    for row in read_rows(path, None, fields=3):
        head = row.identifier(0, "head entity id")
        relation = row.identifier(1, "relation id")
        tail = row.identifier(2, "tail entity id")
        name = names.relation(sources.get(relation, str(relation)), path, row.line)
        if name is None:
            kg.skipped += 1
            continue
        ends = []
        for entity in (head, tail):
            item = item_of(entity)
            if item is not None:
                kg.items.add(item)
                ends.append((item, NodeLabel.ITEM))
                continue
            if entity_ids is not None and entity not in entity_ids:
                raise row.error(f"unknown entity id {entity}")
            entities.add(entity)
            ends.append((str(entity), NodeLabel.ENTITY))
        (h, head_label), (t, tail_label) = ends
        kg.triples.append(Triple(h, name, t, head_label, tail_label))
    kg.entities = sorted(entities)
    kg.relations = dict(names.relations)
    return kg
