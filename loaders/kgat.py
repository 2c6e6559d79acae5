"""The KGAT / KGIN benchmark format (Wang et al., KDD 2019 / WWW 2021), files as published in
``Data/<name>/``.

- ``train.txt`` / ``test.txt``: one line per user, ``user item item ...`` (whitespace-separated
  remapped ids); ``test.txt`` interactions get split ``test``, the rest ``train``.
- ``kg_final.txt`` (optional: a dataset without it loads with no knowledge graph):
  ``head relation tail``; items are the first entities (an entity id below ``n_items`` IS that
  item; see ``_numeric_kg``).
- optional ``user_list.txt``, ``item_list.txt``, ``entity_list.txt``, ``relation_list.txt``:
  a header (``org_id remap_id ...``) and one row per remapped id. When ``org_id`` is the
  column before ``remap_id``, it is everything before the remap id (it may hold spaces and
  quotes, or be empty); the columns after it are single fields. The other columns
  (``org_id``, ``freebase_id``) become node properties (an empty one is left out), relation
  org ids are the relations' sources (``film.film.genre`` is stored as ``film_film_genre``
  unless ``relation_map`` says otherwise), and with a list present an id missing from it is an
  error.

Ids are the remapped integers as strings (at most 18 digits). ``n_items`` is one more than the
largest item id in train/test and the item list (as in KGAT); only ids that occur in some file
become nodes.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Iterable

from kgrec.graph import Interaction, NodeLabel, NodeRecord
from kgrec.graph.store import DEFAULT_BATCH_SIZE, GraphStore

from ._graph import GraphData, LoadReport, reports_warnings, write_graph
from ._io import read_rows, require_dir
from ._numeric_kg import NumericKg, read_numeric_kg
from ._relations import RelationMap, RelationNames

log = logging.getLogger(__name__)

Listing = dict[int, dict[str, str]]


@reports_warnings
def load_kgat(
    store: GraphStore,
    data_dir: str | Path,
    *,
    relation_map: RelationMap | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> LoadReport:
    """Load the KGAT/KGIN dataset folder ``data_dir`` into ``store``.

    ``relation_map`` maps relation sources (org ids from ``relation_list.txt``, else the
    relation ids as strings) to relation names, or to None to skip their triples (a mapping or
    a function; see :class:`~loaders._relations.RelationNames`). Raises
    :class:`DataFileNotFoundError` for a missing folder, ``train.txt`` or ``test.txt``, and
    :class:`DataFormatError` before writing anything on a malformed line, an id over 18
    digits, or an id that a present ``*_list.txt`` does not list.
    """
    data_dir = require_dir(data_dir)
    lists = {name: _read_list(data_dir / f"{name}_list.txt") for name in _LISTS}
    users, pairs = set(), []
    for split, name in (("train", "train.txt"), ("test", "test.txt")):
        for row in read_rows(data_dir / name, None):
            user = row.identifier(0, "user id")
            if lists["user"] is not None and user not in lists["user"]:
                raise row.error(f"unknown user id {user} (not in user_list.txt)")
            users.add(user)
            for k in range(1, len(row.fields)):
                item = row.identifier(k, "item id")
                if lists["item"] is not None and item not in lists["item"]:
                    raise row.error(f"unknown item id {item} (not in item_list.txt)")
                pairs.append((user, item, split))
    items = {item for _, item, _ in pairs} | set(lists["item"] or {})
    n_items = max(items, default=-1) + 1
    kg = _read_kg(data_dir / "kg_final.txt", n_items, lists, relation_map)
    data = GraphData(
        nodes={
            NodeLabel.USER: _records(sorted(users | set(lists["user"] or {})), lists["user"]),
            NodeLabel.ITEM: _records(sorted(items | {int(i) for i in kg.items}), lists["item"]),
            NodeLabel.ENTITY: _records(kg.entities, lists["entity"]),
        },
        interactions=[Interaction(str(u), str(i), split=split) for u, i, split in pairs],
        triple_chunks=[kg.triples],
        skipped=kg.skipped,
        relations=kg.relations,
    )
    return write_graph(store, data, batch_size)


_LISTS = ("user", "item", "entity", "relation")


def _read_kg(
    path: Path, n_items: int, lists: dict[str, Listing | None], relation_map: RelationMap | None
) -> NumericKg:
    """``kg_final.txt``, or an empty KG (logged at INFO) when the dataset has none."""
    if not path.exists():
        log.info("%s not found: loading the interactions with no knowledge graph", path)
        return NumericKg()
    relation_sources = {
        k: v["org_id"] for k, v in (lists["relation"] or {}).items() if v.get("org_id")
    }
    return read_numeric_kg(
        path,
        lambda entity: str(entity) if entity < n_items else None,
        RelationNames(relation_map),
        entity_ids=lists["entity"],
        relation_sources=relation_sources,
    )


def _read_list(path: Path) -> Listing | None:
    """``{remap_id: {column: value}}`` of a ``*_list.txt``, or None when it is absent. Empty
    values are left out."""
    if not path.exists():
        return None
    header = next(read_rows(path, None), None)
    if header is None:
        return {}
    remap = header.column("remap_id")
    names = [f.strip() for f in header.fields]
    for k, name in enumerate(names):
        if k != remap:
            header.property_key(name)
    after = len(names) - 1 - remap  # single-field columns right of remap_id
    org_rest = remap == 1  # the one column before remap_id takes the rest of the line
    listing: Listing = {}
    for row in read_rows(path, None, rsplit=after + 1 if org_rest else -1):
        if row.line == header.line:
            continue
        if org_rest and len(row.fields) == after + 1:
            row = dataclasses.replace(row, fields=["", *row.fields])  # an empty org id
        row.expect(len(names))
        key = row.identifier(remap, "remap_id")
        if key in listing:
            raise row.error(f"remap_id {key} listed twice")
        values = {n: row.fields[k].strip() for k, n in enumerate(names) if k != remap}
        listing[key] = {n: v for n, v in values.items() if v}
    return listing


def _records(ids: Iterable[int], listing: Listing | None) -> list[NodeRecord]:
    """Nodes ``str(id)`` with their list columns (if any) as properties."""
    listing = listing or {}
    return [NodeRecord(str(i), properties=listing.get(i, {})) for i in ids]
