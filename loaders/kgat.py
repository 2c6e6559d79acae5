"""The KGAT / KGIN benchmark format (Wang et al., KDD 2019 / WWW 2021).

- ``train.txt`` / ``test.txt``: one line per user, ``user item item ...`` (whitespace-separated
  remapped ids); ``test.txt`` interactions get split ``test``, the rest ``train``.
- ``kg_final.txt``: ``head relation tail``; items are the first entities (see ``_numeric_kg``).
- optional ``user_list.txt``, ``item_list.txt``, ``entity_list.txt``, ``relation_list.txt``:
  a header (``org_id remap_id ...``) and one row per remapped id. Their other columns
  (``org_id``, ``freebase_id``) become node properties, relation org ids name the relations in
  the report, and with a list present an id missing from it is an error.

Ids are the remapped integers as strings. ``n_items`` is one more than the largest item id in
train/test and the item list (as in KGAT), and every id below it is an Item node.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from kgrec.graph import Interaction, NodeLabel, NodeRecord
from kgrec.graph.store import DEFAULT_BATCH_SIZE, GraphStore

from ._graph import GraphData, LoadReport, write_graph
from ._io import find_file, find_optional, read_rows, split_header
from ._numeric_kg import read_numeric_kg

Listing = dict[int, dict[str, str]]


def load_kgat(
    store: GraphStore, data_dir: str | Path, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> LoadReport:
    """Load a KGAT/KGIN dataset folder (files in it or one folder below) into ``store``.

    Raises :class:`DataFormatError` before writing anything on a malformed line or an id that
    a present ``*_list.txt`` does not list.
    """
    lists = {name: _read_list(data_dir, name) for name in ("user", "item", "entity", "relation")}
    users, pairs = set(), []
    for split, name in (("train", "train.txt"), ("test", "test.txt")):
        for row in read_rows(find_file(data_dir, name), None):
            user = row.integer(0, "user id", minimum=0)
            if lists["user"] is not None and user not in lists["user"]:
                raise row.error(f"unknown user id {user} (not in user_list.txt)")
            users.add(user)
            for k in range(1, len(row.fields)):
                item = row.integer(k, "item id", minimum=0)
                if lists["item"] is not None and item not in lists["item"]:
                    raise row.error(f"unknown item id {item} (not in item_list.txt)")
                pairs.append((user, item, split))
    listed_items = lists["item"] or {}
    n_items = max([*listed_items, *(item for _, item, _ in pairs)], default=-1) + 1

    entity_ids = None if lists["entity"] is None else set(lists["entity"]) | set(range(n_items))
    relation_sources = {
        k: v["org_id"] for k, v in (lists["relation"] or {}).items() if "org_id" in v
    }
    kg = read_numeric_kg(
        find_file(data_dir, "kg_final.txt"),
        n_items,
        entity_ids=entity_ids,
        relation_sources=relation_sources,
    )
    data = GraphData(
        nodes={
            NodeLabel.USER: _records(sorted(users | set(lists["user"] or {})), lists["user"]),
            NodeLabel.ITEM: _records(range(n_items), lists["item"]),
            NodeLabel.ENTITY: _records(kg.entities, lists["entity"]),
        },
        interactions=[Interaction(str(u), str(i), split=split) for u, i, split in pairs],
        triple_chunks=[kg.triples],
        relations=kg.relations,
    )
    return write_graph(store, data, batch_size)


def _read_list(data_dir: str | Path, kind: str) -> Listing | None:
    """``{remap_id: {column: value}}`` of ``<kind>_list.txt``, or None when it is absent."""
    path = find_optional(data_dir, f"{kind}_list.txt")
    if path is None:
        return None
    header, rows = split_header(read_rows(path, None), path)
    remap = header.column("remap_id")
    names = [f.strip() for f in header.fields]
    for k, name in enumerate(names):
        if k != remap:
            header.property_key(name)
    listing: Listing = {}
    for row in rows:
        key = row.integer(remap, "remap_id", minimum=0)
        if key in listing:
            raise row.error(f"remap_id {key} listed twice")
        listing[key] = {n: row.fields[k] for k, n in enumerate(names) if k != remap}
    return listing


def _records(ids: Iterable[int], listing: Listing | None) -> list[NodeRecord]:
    """Nodes ``str(id)`` with their list columns (if any) as properties."""
    listing = listing or {}
    return [NodeRecord(str(i), properties=listing.get(i, {})) for i in ids]
