"""Plain CSV/TSV tables, for data in none of the benchmark formats.

A small dataclass names the columns that hold what (:class:`NodesCsv`,
:class:`InteractionsCsv`, :class:`TriplesCsv`): by header name, or by position (from 0), which
a file without a header row (``header=False``) needs. Values are read as text (CSV quoting
honoured); empty optional cells mean "absent". References resolve like this:

- a user or item named by an interaction must be in the node table of its label when one is
  given; without one it is created with its id only (no text, so stored text is kept);
- a triple's head or tail is an Item when its label is set to item, and an Entity when it is
  set to entity. With label ``None`` it is an Entity, and an id that is also an item of this
  load (an item table row or an interaction's item) is a :class:`DataFormatError` (knowledge
  graph ids and item ids usually come from different numberings) unless the triple table says
  ``shared_ids=True``: then that id IS the item. An Entity must be in the entity table when
  one is given, or is created with its id only;
- a node table with ``only_referenced=True`` loads only the rows that the interactions or
  triples of this load refer to; the rest are counted in :attr:`LoadReport.unreferenced`.

Relation values are named by ``relation_map`` or made valid names (``music.artist.origin`` ->
``music_artist_origin``), see :class:`~loaders._relations.RelationNames`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

from kgrec.errors import DataFormatError, InvalidValueError, shown
from kgrec.graph import Interaction, NodeLabel, NodeRecord, Triple
from kgrec.graph.schema import SPLITS
from kgrec.graph.store import DEFAULT_BATCH_SIZE, GraphStore

from ._graph import GraphData, LoadReport, reports_warnings, write_graph
from ._io import Row, checked_property_key, read_rows, split_header
from ._relations import RelationMap, RelationNames

#: A column: its header name, or its position from 0.
Column = str | int

#: Checks that ``(label, id)`` named on ``row`` exists, creating it if its label has no table.
Resolve = Callable[[NodeLabel, str, Row], None]

#: How many colliding ids a shared-id error names.
_COLLISIONS_SHOWN = 5


@dataclass(frozen=True, slots=True)
class NodesCsv:
    """Nodes of ``label``: ``id`` column; optional ``name``; ``text`` from one column (its
    value) or several (``"column: value; ..."``, or ``"value; ..."`` without a header);
    ``properties`` as text properties: header names (each its own key) or ``{key: column}``.
    ``delimiter=None``: tab for ``.tsv``/``.tab`` files, else comma. ``header=False``: the
    file has no header row (columns by position). ``only_referenced``: keep only the rows the
    loaded interactions or triples refer to."""

    path: str | Path
    label: str | NodeLabel
    id: Column = "id"
    name: Column | None = None
    text: Sequence[Column] = ()
    properties: Sequence[str] | Mapping[str, Column] = ()
    delimiter: str | None = None
    header: bool = True
    only_referenced: bool = False


@dataclass(frozen=True, slots=True)
class InteractionsCsv:
    """User -> item interactions; ``rating``, ``weight`` (default 1), ``timestamp`` (integer)
    and ``split`` (``train``/``valid``/``test``, default ``train``) columns are optional."""

    path: str | Path
    user: Column = "user"
    item: Column = "item"
    rating: Column | None = None
    weight: Column | None = None
    timestamp: Column | None = None
    split: Column | None = None
    delimiter: str | None = None
    header: bool = True


@dataclass(frozen=True, slots=True)
class TriplesCsv:
    """Knowledge-graph triples. ``relation_map`` names relation values (a mapping or a
    function; ``None`` skips a relation's rows); ``head_label`` / ``tail_label`` fix ``item``
    or ``entity``, or ``None`` for Entity; ``shared_ids=True`` says the KG's ids and the item
    ids name the same things (see the module docstring)."""

    path: str | Path
    head: Column = "head"
    relation: Column = "relation"
    tail: Column = "tail"
    relation_map: RelationMap = field(default_factory=dict)
    head_label: str | NodeLabel | None = None
    tail_label: str | NodeLabel | None = None
    shared_ids: bool = False
    delimiter: str | None = None
    header: bool = True


@reports_warnings
def load_csv(
    store: GraphStore,
    *,
    nodes: Sequence[NodesCsv] = (),
    interactions: InteractionsCsv | None = None,
    triples: TriplesCsv | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> LoadReport:
    """Load node tables, an interaction table and a triple table into ``store``.

    Raises :class:`DataFileNotFoundError` for a missing file, and :class:`DataFormatError`
    before writing anything on a malformed row, a missing column, an unknown id, an invalid
    relation name or a KG id that is also an item id (without ``shared_ids``).
    """
    records: dict[NodeLabel, dict[str, NodeRecord]] = {label: {} for label in NodeLabel}
    tabled = {NodeLabel.parse(table.label) for table in nodes}
    optional: dict[NodeLabel, set[str]] = {label: set() for label in NodeLabel}
    for table in nodes:
        label = NodeLabel.parse(table.label)
        for record in _read_nodes(table):
            records[label][record.id] = record
            if table.only_referenced:
                optional[label].add(record.id)
            else:
                optional[label].discard(record.id)
    referenced: dict[NodeLabel, set[str]] = {label: set() for label in NodeLabel}

    def resolve(label: NodeLabel, node_id: str, row: Row) -> None:
        referenced[label].add(node_id)
        if node_id in records[label]:
            return
        if label in tabled:
            kind = label.value.lower()
            raise row.error(f"unknown {kind} id {shown(node_id)} (not in its node table)")
        records[label][node_id] = NodeRecord(node_id)

    read_interactions = (
        [] if interactions is None else list(_read_interactions(interactions, resolve))
    )
    read_triples, skipped, relations = [], 0, {}
    if triples is not None:
        items = set(records[NodeLabel.ITEM])
        read_triples, skipped, relations = _read_triples(triples, resolve, items)
    unreferenced = {}
    for label, ids in optional.items():
        dropped = ids - referenced[label]
        for node_id in dropped:
            del records[label][node_id]
        if any(NodeLabel.parse(t.label) is label and t.only_referenced for t in nodes):
            unreferenced[label.value] = len(dropped)
    data = GraphData(
        nodes={label: list(by_id.values()) for label, by_id in records.items()},
        interactions=read_interactions,
        triple_chunks=[read_triples],
        skipped=skipped + sum(unreferenced.values()),
        relations=relations,
        unreferenced=unreferenced,
    )
    return write_graph(store, data, batch_size)


class _Table:
    """A file's rows, with its columns found by header name or position."""

    def __init__(self, path: str | Path, delimiter: str | None, header: bool) -> None:
        self.path = Path(path)
        if delimiter is None:
            delimiter = "\t" if self.path.suffix.lower() in (".tsv", ".tab") else ","
        rows = read_rows(self.path, delimiter, quoted=True)
        self.header: Row | None = None
        if header:
            self.header, self.rows = split_header(rows, self.path)
            self.width: int | None = len(self.header.fields)
        else:
            first = next(rows, None)
            self.width = None if first is None else len(first.fields)
            rest = chain([] if first is None else [first], rows)
            self.rows = (row.expect(self.width) for row in rest)

    def column(self, column: Column) -> int:
        """The position of ``column`` (a header name, or a position checked against the rows)."""
        if isinstance(column, bool) or not isinstance(column, (str, int)):
            raise InvalidValueError(f"a column is a header name or a position, not {shown(column)}")
        if isinstance(column, int):
            if column < 0 or (self.width is not None and column >= self.width):
                raise DataFormatError(
                    self.path, f"no column {column}: rows have {self.width} fields", 1
                )
            return column
        if self.header is None:
            raise InvalidValueError(
                f"{self.path} is read with header=False: name its columns by position, "
                f"not {shown(column)}"
            )
        return self.header.column(column)

    def optional(self, column: Column | None) -> int | None:
        return None if column is None else self.column(column)

    def name(self, position: int) -> str | None:
        """The header name of ``position``, or None without a header."""
        return None if self.header is None else self.header.fields[position].strip()

    def property_key(self, key: str) -> str:
        return checked_property_key(key, self.path, None if self.header is None else 1)


def _what(column: Column, role: str) -> str:
    """How an error names a column: its header name, else the role and position."""
    return column if isinstance(column, str) else f"{role} (column {column})"


def _cell(row: Row, column: int | None) -> str | None:
    """The stripped value of ``column``, or None when there is no such column or it is empty."""
    if column is None:
        return None
    return row.fields[column].strip() or None


def _property_columns(table: NodesCsv, t: _Table) -> list[tuple[str, int]]:
    """``(key, position)`` of each property column."""
    if isinstance(table.properties, Mapping):
        pairs = [(key, t.column(c)) for key, c in table.properties.items()]
    else:
        positions = [t.column(c) for c in table.properties]
        names = [t.name(k) for k in positions]
        if None in names:
            raise InvalidValueError(
                f"{t.path} has no header: give properties as {{key: column position}}"
            )
        pairs = list(zip(names, positions))
    return [(t.property_key(key), k) for key, k in pairs]


def _read_nodes(table: NodesCsv) -> Iterator[NodeRecord]:
    t = _Table(table.path, table.delimiter, table.header)
    id_col, name_col = t.column(table.id), t.optional(table.name)
    text_cols = [(t.name(k), k) for k in map(t.column, table.text)]
    prop_cols = _property_columns(table, t)
    for row in t.rows:
        parts = [(c, v) for c, k in text_cols if (v := _cell(row, k)) is not None]
        if len(text_cols) == 1:
            text = parts[0][1] if parts else None
        else:
            text = "; ".join(v if c is None else f"{c}: {v}" for c, v in parts) or None
        properties = {key: v for key, k in prop_cols if (v := _cell(row, k)) is not None}
        node_id = row.text(id_col, _what(table.id, "id"))
        yield NodeRecord(node_id, text, _cell(row, name_col), properties)


def _read_interactions(table: InteractionsCsv, resolve: Resolve) -> Iterator[Interaction]:
    t = _Table(table.path, table.delimiter, table.header)
    user_col, item_col = t.column(table.user), t.column(table.item)
    rating, weight, timestamp, split = map(
        t.optional, (table.rating, table.weight, table.timestamp, table.split)
    )
    for row in t.rows:
        user = row.text(user_col, _what(table.user, "user"))
        item = row.text(item_col, _what(table.item, "item"))
        resolve(NodeLabel.USER, user, row)
        resolve(NodeLabel.ITEM, item, row)
        split_value = _cell(row, split) or "train"
        if split_value not in SPLITS:
            raise row.error(f"split must be one of {SPLITS}, found {shown(split_value)}")
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
) -> tuple[list[Triple], int, dict[str, str]]:
    """The triples, the number of rows skipped (relation mapped to None), and ``{relation
    value: relation name}``."""
    fixed = [
        None if lb is None else NodeLabel.parse(lb) for lb in (table.head_label, table.tail_label)
    ]
    if NodeLabel.USER in fixed:
        raise InvalidValueError("triples connect items and entities: a triple label cannot be user")
    t = _Table(table.path, table.delimiter, table.header)
    ends = [(t.column(c), _what(c, r)) for c, r in ((table.head, "head"), (table.tail, "tail"))]
    rel_col = t.column(table.relation)
    names = RelationNames(table.relation_map)
    triples, skipped, collisions = [], 0, {}
    for row in t.rows:
        source = row.text(rel_col, _what(table.relation, "relation"))
        name = names.relation(source, t.path, row.line)
        if name is None:
            skipped += 1
            continue
        nodes = []
        for (col, what), label in zip(ends, fixed):
            node_id = row.text(col, what)
            if label is None and node_id in items:
                if not table.shared_ids:
                    collisions.setdefault(node_id, row.line)
                    continue
                label = NodeLabel.ITEM
            label = label or NodeLabel.ENTITY
            resolve(label, node_id, row)
            nodes.append((label, node_id))
        if len(nodes) == 2:
            (head_label, head), (tail_label, tail) = nodes
            triples.append(Triple(head, name, tail, head_label, tail_label))
    if collisions:
        raise _collision_error(t.path, collisions)
    return triples, skipped, names.relations


def _collision_error(path: Path, collisions: dict[str, int]) -> DataFormatError:
    """The error for KG ids that are also item ids (``{id: first line}``)."""
    first = list(collisions)[:_COLLISIONS_SHOWN]
    named = ", ".join(shown(i) for i in first)
    more = f" and {len(collisions) - len(first)} more" if len(collisions) > len(first) else ""
    return DataFormatError(
        path,
        f"{len(collisions)} knowledge-graph ids are also item ids ({named}{more}): pass "
        "shared_ids=True if they name the same things, or head_label/tail_label to say which "
        "end is which",
        collisions[first[0]],
    )
