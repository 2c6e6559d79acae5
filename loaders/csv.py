"""Plain CSV/TSV tables, for data in none of the benchmark formats.

Each table has a header row; a small dataclass names the columns that hold what
(:class:`NodesCsv`, :class:`InteractionsCsv`, :class:`TriplesCsv`). Values are read as text (CSV
quoting honoured); empty optional cells mean "absent". References resolve like this:

- a user or item named by an interaction must be in the node table of its label when one is
  given; without one it is created with its id only (no text, so stored text is kept);
- a triple's head or tail is an Item when its label is set to item, or (label ``None``) when the
  id is an item of this load (an item table row or an interaction's item); otherwise an Entity,
  which must be in the entity table when one is given, or is created with its id only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

from kgrec.errors import InvalidValueError
from kgrec.graph import Interaction, NodeLabel, NodeRecord, Triple
from kgrec.graph.schema import SPLITS
from kgrec.graph.store import DEFAULT_BATCH_SIZE, GraphStore

from ._graph import GraphData, LoadReport, write_graph
from ._io import Row, read_rows, split_header

#: Checks that ``(label, id)`` named on ``row`` exists, creating it if its label has no table.
Resolve = Callable[[NodeLabel, str, Row], None]


@dataclass(frozen=True, slots=True)
class NodesCsv:
    """Nodes of ``label``: ``id`` column; optional ``name``; ``text`` from one column (its
    value) or several (``"column: value; ..."``); ``properties`` columns as text properties
    keyed by their header. ``delimiter=None``: tab for ``.tsv``/``.tab`` files, else comma."""

    path: str | Path
    label: str | NodeLabel
    id: str = "id"
    name: str | None = None
    text: Sequence[str] = ()
    properties: Sequence[str] = ()
    delimiter: str | None = None


@dataclass(frozen=True, slots=True)
class InteractionsCsv:
    """User -> item interactions; ``rating``, ``weight`` (default 1), ``timestamp`` (integer)
    and ``split`` (``train``/``valid``/``test``, default ``train``) columns are optional."""

    path: str | Path
    user: str = "user"
    item: str = "item"
    rating: str | None = None
    weight: str | None = None
    timestamp: str | None = None
    split: str | None = None
    delimiter: str | None = None


@dataclass(frozen=True, slots=True)
class TriplesCsv:
    """Knowledge-graph triples. ``relation_map`` renames relation values (the stored name must
    be a valid relation name); ``head_label`` / ``tail_label`` fix ``item`` or ``entity``, or
    ``None`` to decide per id (see the module docstring)."""

    path: str | Path
    head: str = "head"
    relation: str = "relation"
    tail: str = "tail"
    relation_map: Mapping[str, str] = field(default_factory=dict)
    head_label: str | NodeLabel | None = None
    tail_label: str | NodeLabel | None = None
    delimiter: str | None = None


def load_csv(
    store: GraphStore,
    *,
    nodes: Sequence[NodesCsv] = (),
    interactions: InteractionsCsv | None = None,
    triples: TriplesCsv | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> LoadReport:
    """Load node tables, an interaction table and a triple table into ``store``.

    Raises :class:`DataFormatError` before writing anything on a malformed row, a missing
    column, an unknown id or an invalid relation name.
    """
    records: dict[NodeLabel, dict[str, NodeRecord]] = {label: {} for label in NodeLabel}
    tabled = {NodeLabel.parse(table.label) for table in nodes}
    for table in nodes:
        label = NodeLabel.parse(table.label)
        records[label].update((r.id, r) for r in _read_nodes(table))

    def resolve(label: NodeLabel, node_id: str, row: Row) -> None:
        if node_id in records[label]:
            return
        if label in tabled:
            raise row.error(f"unknown {label.value.lower()} id {node_id!r} (not in its node table)")
        records[label][node_id] = NodeRecord(node_id)

    read_interactions = (
        [] if interactions is None else list(_read_interactions(interactions, resolve))
    )
    read_triples, relations = [], {}
    if triples is not None:
        items = set(records[NodeLabel.ITEM])
        read_triples, relations = _read_triples(triples, resolve, items)
    data = GraphData(
        nodes={label: list(by_id.values()) for label, by_id in records.items()},
        interactions=read_interactions,
        triple_chunks=[read_triples],
        relations=relations,
    )
    return write_graph(store, data, batch_size)


def _table(path: str | Path, delimiter: str | None) -> tuple[Row, Iterator[Row]]:
    if delimiter is None:
        delimiter = "\t" if Path(path).suffix.lower() in (".tsv", ".tab") else ","
    return split_header(read_rows(path, delimiter, quoted=True), path)


def _cell(row: Row, column: int | None) -> str | None:
    """The stripped value of ``column``, or None when there is no such column or it is empty."""
    if column is None:
        return None
    return row.fields[column].strip() or None


def _read_nodes(table: NodesCsv) -> Iterator[NodeRecord]:
    header, rows = _table(table.path, table.delimiter)
    id_col = header.column(table.id)
    name_col = header.column(table.name) if table.name else None
    text_cols = [(c, header.column(c)) for c in table.text]
    prop_cols = [(header.property_key(c), header.column(c)) for c in table.properties]
    for row in rows:
        parts = [(c, _cell(row, k)) for c, k in text_cols]
        parts = [(c, v) for c, v in parts if v is not None]
        if len(text_cols) == 1:
            text = parts[0][1] if parts else None
        else:
            text = "; ".join(f"{c}: {v}" for c, v in parts) or None
        properties = {key: v for key, k in prop_cols if (v := _cell(row, k)) is not None}
        yield NodeRecord(row.text(id_col, table.id), text, _cell(row, name_col), properties)


def _read_interactions(table: InteractionsCsv, resolve: Resolve) -> Iterator[Interaction]:
    header, rows = _table(table.path, table.delimiter)
    user_col, item_col = header.column(table.user), header.column(table.item)
    rating, weight, timestamp, split = (
        header.column(c) if c else None
        for c in (table.rating, table.weight, table.timestamp, table.split)
    )
    for row in rows:
        user, item = row.text(user_col, table.user), row.text(item_col, table.item)
        resolve(NodeLabel.USER, user, row)
        resolve(NodeLabel.ITEM, item, row)
        split_value = _cell(row, split) or "train"
        if split_value not in SPLITS:
            raise row.error(f"split must be one of {SPLITS}, found {split_value!r}")
        yield Interaction(
            user,
            item,
            rating=row.number(rating, "rating") if _cell(row, rating) else None,
            weight=row.number(weight, "weight") if _cell(row, weight) else 1.0,
            timestamp=row.integer(timestamp, "timestamp") if _cell(row, timestamp) else None,
            split=split_value,
        )


def _read_triples(
    table: TriplesCsv, resolve: Resolve, items: set[str]
) -> tuple[list[Triple], dict[str, str]]:
    """The triples, and ``{relation value: relation name}``."""
    fixed = [
        None if lb is None else NodeLabel.parse(lb) for lb in (table.head_label, table.tail_label)
    ]
    if NodeLabel.USER in fixed:
        raise InvalidValueError("triples connect items and entities: a triple label cannot be user")
    header, rows = _table(table.path, table.delimiter)
    ends = [(header.column(table.head), table.head), (header.column(table.tail), table.tail)]
    rel_col = header.column(table.relation)
    triples, relations = [], {}
    for row in rows:
        nodes = []
        for (col, what), fixed_label in zip(ends, fixed):
            node_id = row.text(col, what)
            label = fixed_label or (NodeLabel.ITEM if node_id in items else NodeLabel.ENTITY)
            resolve(label, node_id, row)
            nodes.append((label, node_id))
        raw = row.text(rel_col, table.relation)
        if raw not in relations:
            relations[raw] = row.relation(table.relation_map.get(raw, raw))
        (head_label, head), (tail_label, tail) = nodes
        triples.append(Triple(head, relations[raw], tail, head_label, tail_label))
    return triples, relations
