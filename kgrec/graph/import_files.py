"""A graph as the CSV files of Neo4j's offline importer (``neo4j-admin database import full``).

The files hold exactly what the transactional path (:mod:`kgrec.graph.cypher`) writes, so that
:class:`~kgrec.graph.neo4j_store.Neo4jGraphStore` cannot tell the two loads apart: nodes labelled
in the store's :class:`~kgrec.graph.schema.Namespace` with properties ``id``, ``text`` and
``name`` (each only when given) and their own properties; ``INTERACTED`` relationships with
``rating``, ``weight``, ``timestamp``, ``split``, ``kind`` and ``source`` (``None`` not
stored); knowledge-graph
relationships without properties. Every value keeps its Neo4j type: a column holds one type, so
rows whose values differ in type (``rating`` 4 and 4.5) go to separate files, each with its own
header. Each label is an id space (``id:ID(KgrecItem)``): a user and an item may share an id.

Strings are always quoted (``""`` stays an empty string); ``None`` is an empty field in a node
file, and leaves its column out of a relationship file. Lists become arrays split on a
delimiter that no element contains. Two values have no CSV form and are
refused: an empty list and a list holding an empty string.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any, Hashable, Iterable, Mapping, Sequence, TextIO

from kgrec.errors import InvalidValueError, shown
from kgrec.graph.batches import T, gc_paused
from kgrec.graph.records import Interaction, NodeRecord, Scalar, Triple
from kgrec.graph.schema import INTERACTED, Namespace, NodeLabel

#: Array delimiters tried in order: the first that no string element contains is used.
ARRAY_DELIMITERS = (";", "|", "\x1f", "\x1e")

#: The interaction properties besides ``split``, all written by the transactional path (a
#: column holds one type: their value types choose the file; ``None`` leaves the column out).
_TYPED = ("rating", "weight", "timestamp", "kind", "source")

#: Neo4j's CSV header type of each Python value type (lists: the element's type + ``[]``).
_KINDS = {bool: "boolean", int: "long", float: "double", str: "string"}


@dataclass(frozen=True)
class ImportFiles:
    """CSV files in ``folder`` for one import: ``nodes`` as ``(label, file name)``,
    ``relationships`` as ``(type or None, file name)`` (``None``: a ``:TYPE`` column), with the
    options they need."""

    folder: Path
    nodes: tuple[tuple[str, str], ...]
    relationships: tuple[tuple[str | None, str], ...]
    node_count: int
    relationship_count: int
    array_delimiter: str
    multiline: bool

    def arguments(self) -> list[str]:
        """The file and CSV options of ``neo4j-admin database import full`` for these files."""
        args = [f"--nodes={label}={self.folder / name}" for label, name in self.nodes]
        args += [
            f"--relationships={self.folder / name}"
            if rel is None
            else f"--relationships={rel}={self.folder / name}"
            for rel, name in self.relationships
        ]
        args.append(f"--array-delimiter=U+{ord(self.array_delimiter):04X}")
        if self.multiline:
            args.append("--multiline-fields=true")
        return args


def write_import_files(
    nodes: Mapping[NodeLabel, Sequence[NodeRecord]],
    interactions: Sequence[Interaction],
    triples: Sequence[Triple],
    folder: str | Path,
    namespace: Namespace = Namespace(),
) -> ImportFiles:
    """Write validated records (e.g. :meth:`MemoryGraphStore.records`, so no duplicate keys
    and no dangling ids) into ``folder`` (created if missing) as importer CSV files.

    ``folder`` may not contain ``,`` or ``=``, which separate the importer's file arguments (its
    last part, the file name, is read as a pattern: kgrec's names match only themselves)."""
    folder = Path(folder).absolute()
    if "," in str(folder) or "=" in str(folder):
        raise InvalidValueError(
            f"import folder {shown(str(folder))} contains ',' or '=', which neo4j-admin reads "
            "as separators: choose another folder"
        )
    folder.mkdir(parents=True, exist_ok=True)
    writer = _Writer(folder, _array_delimiter(nodes))
    node_files = []
    with gc_paused():
        for label, group in nodes.items():
            spelled = namespace.label(label)
            node_files += [(spelled, name) for name in writer.node_files(spelled, group)]
        rel_files: list[tuple[str | None, str]] = [
            (INTERACTED, name) for name in writer.interaction_files(namespace, interactions)
        ]
        rel_files += [(None, name) for name in writer.triple_files(namespace, triples)]
    return ImportFiles(
        folder,
        tuple(node_files),
        tuple(rel_files),
        sum(len(group) for group in nodes.values()),
        len(interactions) + len(triples),
        writer.delimiter,
        writer.multiline,
    )


def _array_delimiter(nodes: Mapping[NodeLabel, Sequence[NodeRecord]]) -> str:
    """The first of :data:`ARRAY_DELIMITERS` in no string list element."""
    used = {
        c
        for group in nodes.values()
        for r in group
        for v in r.properties.values()
        if isinstance(v, list)
        for e in v
        if isinstance(e, str)
        for c in ARRAY_DELIMITERS
        if c in e
    }
    for c in ARRAY_DELIMITERS:
        if c not in used:
            return c
    raise InvalidValueError(
        f"every array delimiter {ARRAY_DELIMITERS!r} occurs in some string list property: "
        "load this graph with the transactional path (the store's upserts)"
    )


class _Writer:
    """Writes the files and remembers what their reading needs (multiline fields)."""

    def __init__(self, folder: Path, delimiter: str) -> None:
        self.folder = folder
        self.delimiter = delimiter
        self.multiline = False
        self._files = 0

    def text(self, value: str) -> str:
        """``value`` as a quoted CSV field."""
        if not self.multiline and ("\n" in value or "\r" in value):
            self.multiline = True
        return '"' + value.replace('"', '""') + '"'

    def field(self, value: Any, node: str, key: str) -> str:
        """Property ``key`` of node ``node`` as a CSV field (empty for ``None``: not stored)."""
        if value is None:
            return ""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            if not value or any(e == "" for e in value):
                raise InvalidValueError(
                    f"{key} of node {shown(node)} is {shown(value)}: the bulk importer cannot "
                    "write an empty list or an empty string in a list; load this graph with the "
                    "store's upserts"
                )
            return self.text(self.delimiter.join(map(_element, value)))
        return _number(value)

    def _open(self, stem: str, header: Sequence[str]) -> tuple[str, TextIO]:
        name = f"{stem}-{self._files}.csv"
        self._files += 1
        f = open(self.folder / name, "w", encoding="utf-8", newline="")
        f.write(",".join(header) + "\n")
        return name, f

    def _file(self, stem: str, header: Sequence[str], lines: Iterable[str]) -> str:
        """A file of the given lines."""
        name, f = self._open(stem, header)
        with f:
            f.writelines(line + "\n" for line in lines)
        return name

    def _table(self, stem: str, header: Sequence[str], rows: Iterable[tuple]) -> str:
        """A file of rows of ids, relationship types, splits and numbers, none ``None`` (CSV
        written in C: strings quoted, numbers not; ids were checked for line breaks with
        their nodes, and the rest has none)."""
        name, f = self._open(stem, header)
        with f:
            csv.writer(f, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(rows)
        return name

    def node_files(self, label: str, records: Sequence[NodeRecord]) -> list[str]:
        """One file per combination of property types (one, unless a key's type varies)."""
        keys = list(dict.fromkeys(k for r in records for k in r.properties))
        kinds: dict[str, set[str]] = defaultdict(set)
        for r in records:
            for k, v in r.properties.items():
                kinds[k].add(_kind(v))
        varying = [k for k in keys if len(kinds[k]) > 1]
        groups: dict[tuple, list[NodeRecord]] = defaultdict(list)
        for r in records:
            groups[tuple(_kind(r.properties.get(k)) for k in varying)].append(r)
        names = []
        for signature, group in groups.items():
            chosen = dict(zip(varying, signature))
            header = [f"id:ID({label})", "text:string", "name:string"] + [
                f"{k}:{chosen.get(k) or min(kinds[k])}" for k in keys
            ]
            lines = (
                ",".join(
                    [self.text(r.id), self.field(r.text, r.id, "text"), self.field(r.name, r.id, "name")]
                    + [self.field(r.properties.get(k), r.id, k) for k in keys]
                )
                for r in group
            )
            names.append(self._file(f"nodes-{label}", header, lines))
        return names

    def interaction_files(
        self, namespace: Namespace, interactions: Sequence[Interaction]
    ) -> list[str]:
        """One file per combination of the types of :data:`_TYPED` properties: a column holds
        one type, and a column whose values are ``None`` (not stored) is left out.

        Rows go in memory order. A store's records may lie scattered (the embedded store holds
        them user by user, made in load order), and reading them in address order is what the
        cache wants: for 2 million, 1.3-2 s less of about 5 s here. Order means nothing to the
        importer, and a fresh list is in memory order already (sorting it is one pass)."""
        interactions = sorted(interactions, key=id)
        for source in set(map(attrgetter("source"), interactions)) - {None}:
            self.text(source)  # notes a line break (the only free text of a relationship)
        types = zip(*(map(type, map(attrgetter(a), interactions)) for a in _TYPED))
        names = []
        for signature, group in _grouped(interactions, types).items():
            given = dict(zip(_TYPED, signature))
            columns = {
                "user": f":START_ID({namespace.label(NodeLabel.USER)})",
                "item": f":END_ID({namespace.label(NodeLabel.ITEM)})",
                **{k: f"{k}:{_type_kind(t)}" for k, t in given.items() if t is not type(None)},
                "split": "split:string",
            }
            rows = map(attrgetter(*columns), group)
            names.append(self._table("interactions", list(columns.values()), rows))
        return names

    def triple_files(self, namespace: Namespace, triples: Sequence[Triple]) -> list[str]:
        """One file per (head label, tail label), the relationship type in a ``:TYPE`` column."""
        ends = map(attrgetter("head_label", "tail_label"), triples)
        names = []
        for (head, tail), group in _grouped(triples, ends).items():
            header = [
                f":START_ID({namespace.label(head)})",
                f":END_ID({namespace.label(tail)})",
                ":TYPE",
            ]
            rows = map(attrgetter("head", "tail", "relation"), group)
            names.append(self._table("relationships", header, rows))
        return names


def _grouped(rows: Sequence[T], keys: Iterable[Hashable]) -> dict[Any, Sequence[T]]:
    """``rows`` by their ``keys`` (in the same order), in first-seen order; when all keys are
    equal, ``rows`` itself (the usual case, checked at C speed for C-level ``keys``)."""
    keys = list(keys)
    distinct = dict.fromkeys(keys)
    if len(distinct) == 1:
        return {keys[0]: rows}
    groups: dict[Any, list[T]] = defaultdict(list)
    for row, key in zip(rows, keys):
        groups[key].append(row)
    return groups


def _element(value: Scalar) -> str:
    """An array element as it stands between delimiters (the whole field is quoted)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return _number(value)


def _number(value: int | float) -> str:
    """An int or float (or a subclass, e.g. numpy's float64) as Python writes the plain type:
    ``repr`` of a float reads back as the same double."""
    return repr(float(value)) if isinstance(value, float) else repr(int(value))


def _type_kind(cls: type) -> str:
    """Neo4j's CSV type for values of ``cls`` (a validated scalar type or a subclass)."""
    return next(kind for base, kind in _KINDS.items() if issubclass(cls, base))


def _kind(value: Any) -> str | None:
    """The Neo4j CSV type of a property value (``None`` for ``None``)."""
    if value is None:
        return None
    if isinstance(value, list):
        return _type_kind(type(value[0])) + "[]" if value else "string[]"
    return _type_kind(type(value))
