"""The KGCN / RippleNet benchmark format (Wang et al., WWW 2019 / CIKM 2018).

- ``ratings_final.npy`` or ``ratings_final.txt`` (the ``.npy`` wins, as in KGCN): rows of
  ``user item label`` (user and item indices). Label 1 rows are the positive interactions
  (split ``train`` unless ``split_file`` says otherwise). Label 0 rows are the negatives
  KGCN's preprocessing sampled at random from unrated items; they are not observations, so
  they are skipped and counted in :attr:`LoadReport.skipped`. Users of both kinds of row
  become User nodes, with their index as id.
- ``item_index2entity_id.txt`` (or RippleNet's ``item_index2entity_id_rehashed.txt``): line
  ``k`` (from 0) is item index ``k``: ``original_id entity_index``. The item's id is the
  dataset's original id (e.g. an ISBN), with property ``item_index`` = ``k``; ``entity_index``
  is the item's entity in ``kg_final.txt``.
- ``kg_final.txt``: ``head relation tail`` entity indices. An entity that the item index file
  names is that Item node; every other entity is an Entity node with its index as id, so an
  item and an entity never merge because their numbers coincide. Relation ``k`` is named
  ``r<k>`` unless ``relation_map`` says otherwise.

Files: each path may be given, or is looked up in ``data_dir`` and then in its documented
subfolder (the layout of ``shared/data/kgcn-book-crossing``): ``preprocessed/`` for ratings and
KG, ``raw/`` for the item index. Rows of a ``.npy`` are numbered from 1 in errors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kgrec.errors import DataFormatError, InvalidValueError, shown
from kgrec.graph import Interaction, NodeLabel, NodeRecord
from kgrec.graph.schema import SPLITS
from kgrec.graph.store import DEFAULT_BATCH_SIZE, GraphStore

from ._graph import GraphData, LoadReport, reports_warnings, write_graph
from ._io import MAX_ID, first_file, read_rows, require_dir, require_file, split_header
from ._numeric_kg import read_numeric_kg
from ._relations import RelationMap, RelationNames

_COLUMNS = ("user index", "item index", "label")
ITEM_INDEX_FILES = ("item_index2entity_id.txt", "item_index2entity_id_rehashed.txt")
SPLIT_HEADER = ("user_id", "item_id", "split")


@reports_warnings
def load_kgcn(
    store: GraphStore,
    data_dir: str | Path | None = None,
    *,
    ratings: str | Path | None = None,
    kg: str | Path | None = None,
    item_index: str | Path | None = None,
    split_file: str | Path | None = None,
    relation_map: RelationMap | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> LoadReport:
    """Load a KGCN/RippleNet dataset into ``store``: the files ``ratings``, ``kg`` and
    ``item_index`` where given, else found in ``data_dir`` (see the module docstring).

    ``split_file`` (tab-separated, header ``user_id item_id split``, ids as stored: user
    index, original item id) gives the interactions and their splits, as
    ``load_movielens100k``'s does: each row must be a positive rating, and positives it does
    not list are skipped. ``relation_map`` maps relation ids (as strings) to names, or to None
    to skip their triples (see :class:`~loaders._relations.RelationNames`). Raises
    :class:`DataFileNotFoundError` for a missing folder or file, and :class:`DataFormatError`
    before writing anything on a malformed row, a label other than 0/1, or an item index with
    no line in the item index file.
    """
    paths = _paths(data_dir, ratings, kg, item_index)
    items, item_of_entity = _read_item_index(paths["item_index"])
    path, rows, lines = _read_ratings(paths["ratings"])
    users, item_ids, labels = rows.T
    _check(path, lines, users, users < 0, "user index must not be negative")
    _check(path, lines, item_ids, (item_ids < 0) | (item_ids >= len(items)), "unknown item index")
    _check(path, lines, labels, (labels < 0) | (labels > 1), "label must be 0 or 1")
    positives = [(str(u), items[i].id) for u, i in rows[labels == 1][:, :2].tolist()]
    interactions = (
        [Interaction(u, i) for u, i in positives]
        if split_file is None
        else _read_split(Path(split_file), set(positives))
    )
    graph = read_numeric_kg(paths["kg"], item_of_entity.get, RelationNames(relation_map))
    data = GraphData(
        nodes={
            NodeLabel.USER: [NodeRecord(str(u)) for u in np.unique(users).tolist()],
            NodeLabel.ITEM: items,
            NodeLabel.ENTITY: [NodeRecord(str(e)) for e in graph.entities],
        },
        interactions=interactions,
        triple_chunks=[graph.triples],
        skipped=len(rows) - len(interactions) + graph.skipped,
        relations=graph.relations,
    )
    return write_graph(store, data, batch_size)


def _paths(
    data_dir: str | Path | None,
    ratings: str | Path | None,
    kg: str | Path | None,
    item_index: str | Path | None,
) -> dict[str, Path]:
    """Each file: the path given, else the first documented place in ``data_dir`` holding it."""
    given = {"ratings": ratings, "kg": kg, "item_index": item_index}
    if data_dir is None:
        missing = [name for name, path in given.items() if path is None]
        if missing:
            raise InvalidValueError(f"load_kgcn needs data_dir, or the paths {missing}")
        return {name: require_file(path) for name, path in given.items()}
    data_dir = require_dir(data_dir)
    found = {
        name: [folder / file for folder in (data_dir, data_dir / sub) for file in files]
        for name, sub, files in (
            ("ratings", "preprocessed", ("ratings_final.npy", "ratings_final.txt")),
            ("kg", "preprocessed", ("kg_final.txt",)),
            ("item_index", "raw", ITEM_INDEX_FILES),
        )
    }
    return {
        name: require_file(path) if path is not None else first_file(*found[name])
        for name, path in given.items()
    }


def _read_item_index(path: Path) -> tuple[list[NodeRecord], dict[int, str]]:
    """Item ``k`` of line ``k`` (property ``item_index`` = ``k``), and ``{entity index: item
    id}``."""
    items, item_of_entity, ids = [], {}, set()
    for k, row in enumerate(read_rows(path, None, fields=2)):
        item_id, entity = row.text(0, "original item id"), row.identifier(1, "entity index")
        if item_id in ids:
            raise row.error(f"item id {shown(item_id)} listed twice")
        if entity in item_of_entity:
            raise row.error(f"entity index {entity} given to two items")
        ids.add(item_id)
        item_of_entity[entity] = item_id
        items.append(NodeRecord(item_id, properties={"item_index": k}))
    return items, item_of_entity


def _read_ratings(path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """``(file, [N, 3] int64 rows, [N] line numbers)`` of ``ratings_final``."""
    if path.suffix != ".npy":
        rows = list(read_rows(path, None, fields=3))
        values = [[row.integer(k, what) for k, what in enumerate(_COLUMNS)] for row in rows]
        return (
            path,
            np.array(values, dtype=np.int64).reshape(-1, 3),
            np.array([r.line for r in rows]),
        )
    try:
        ratings = np.load(path, allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        raise DataFormatError(path, f"cannot read the array: {shown(str(exc))}") from None
    if ratings.ndim != 2 or ratings.shape[1] != 3 or not np.issubdtype(ratings.dtype, np.integer):
        found = f"{ratings.dtype} {list(ratings.shape)}"
        raise DataFormatError(path, f"expected an [N, 3] integer array, found {found}")
    if np.issubdtype(ratings.dtype, np.unsignedinteger) and (ratings > MAX_ID).any():
        raise DataFormatError(path, "values must be at most 10**18-1")
    return path, ratings.astype(np.int64), np.arange(1, len(ratings) + 1)


def _read_split(path: Path, positives: set[tuple[str, str]]) -> list[Interaction]:
    """The interactions of ``split_file``; each must be one of ``positives``."""
    _, rows = split_header(read_rows(path, "\t"), path, SPLIT_HEADER)
    interactions, seen = [], set()
    for row in rows:
        pair = (row.text(0, "user id"), row.text(1, "item id"))
        if pair not in positives:
            raise row.error(f"{shown(pair)} is not a positive rating in ratings_final")
        if pair in seen:
            raise row.error(f"{shown(pair)} listed twice")
        seen.add(pair)
        split = row.text(2, "split")
        if split not in SPLITS:
            raise row.error(f"split must be one of {SPLITS}, found {shown(split)}")
        interactions.append(Interaction(*pair, split=split))
    return interactions


def _check(
    path: Path, lines: np.ndarray, values: np.ndarray, bad: np.ndarray, problem: str
) -> None:
    """Raise ``problem`` at the first row where ``bad`` holds, naming its value."""
    if bad.any():
        first = int(np.argmax(bad))
        raise DataFormatError(path, f"{problem}, found {values[first]}", int(lines[first]))
