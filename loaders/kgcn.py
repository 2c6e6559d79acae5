"""The KGCN / RippleNet benchmark format (Wang et al., WWW 2019 / CIKM 2018).

- ``ratings_final.npy`` or ``ratings_final.txt`` (the ``.npy`` wins, as in KGCN): rows of
  ``user item label``. Label 1 rows are the positive interactions (split ``train``: KGCN draws
  its own random split). Label 0 rows are the negatives KGCN's preprocessing sampled at random
  from unrated items; they are not observations, so they are skipped and counted in
  :attr:`LoadReport.skipped`. Users of both kinds of row become User nodes.
- ``item_index2entity_id.txt`` (or RippleNet's ``item_index2entity_id_rehashed.txt``): line
  ``k`` (from 0) is item ``k``; its first column (the source id, e.g. an ISBN) becomes the
  ``source_id`` property, and the number of lines is ``n_items``.
- ``kg_final.txt``: ``head relation tail``; items are the first entities (see ``_numeric_kg``).

Ids are the integer indices as strings. Rows of a ``.npy`` are numbered from 1 in errors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kgrec.errors import DataFormatError
from kgrec.graph import Interaction, NodeLabel, NodeRecord
from kgrec.graph.store import DEFAULT_BATCH_SIZE, GraphStore

from ._graph import GraphData, LoadReport, write_graph
from ._io import find_file, find_optional, read_rows
from ._numeric_kg import read_numeric_kg

_COLUMNS = ("user index", "item index", "label")
ITEM_INDEX_FILES = ("item_index2entity_id.txt", "item_index2entity_id_rehashed.txt")


def load_kgcn(
    store: GraphStore, data_dir: str | Path, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> LoadReport:
    """Load a KGCN/RippleNet dataset folder (files in it or one folder below) into ``store``.

    Raises :class:`DataFormatError` before writing anything on a malformed row, a label other
    than 0/1, or an item index with no line in the item index file.
    """
    items = _read_item_index(find_file(data_dir, *ITEM_INDEX_FILES))
    path, ratings, lines = _read_ratings(data_dir)
    users, item_ids, labels = ratings.T
    _check(path, lines, users, users < 0, "user index must not be negative")
    _check(path, lines, item_ids, (item_ids < 0) | (item_ids >= len(items)), "unknown item index")
    _check(path, lines, labels, (labels < 0) | (labels > 1), "label must be 0 or 1")
    positives = ratings[labels == 1]
    kg = read_numeric_kg(find_file(data_dir, "kg_final.txt"), len(items))
    data = GraphData(
        nodes={
            NodeLabel.USER: [NodeRecord(str(u)) for u in np.unique(users).tolist()],
            NodeLabel.ITEM: items,
            NodeLabel.ENTITY: [NodeRecord(str(e)) for e in kg.entities],
        },
        interactions=[Interaction(str(u), str(i)) for u, i in positives[:, :2].tolist()],
        triple_chunks=[kg.triples],
        skipped=len(ratings) - len(positives),
        relations=kg.relations,
    )
    return write_graph(store, data, batch_size)


def _read_item_index(path: Path) -> list[NodeRecord]:
    return [
        NodeRecord(str(k), properties={"source_id": row.text(0, "source id")})
        for k, row in enumerate(read_rows(path, None, fields=2))
    ]


def _read_ratings(data_dir: str | Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """``(file, [N, 3] int64 rows, [N] line numbers)`` of ``ratings_final``."""
    npy = find_optional(data_dir, "ratings_final.npy")
    if npy is None:
        path = find_file(data_dir, "ratings_final.txt")
        rows = list(read_rows(path, None, fields=3))
        values = [[row.integer(k, what) for k, what in enumerate(_COLUMNS)] for row in rows]
        return (
            path,
            np.array(values, dtype=np.int64).reshape(-1, 3),
            np.array([r.line for r in rows]),
        )
    try:
        ratings = np.load(npy, allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        raise DataFormatError(npy, f"cannot read the array: {exc}") from None
    if ratings.ndim != 2 or ratings.shape[1] != 3 or not np.issubdtype(ratings.dtype, np.integer):
        found = f"{ratings.dtype} {list(ratings.shape)}"
        raise DataFormatError(npy, f"expected an [N, 3] integer array, found {found}")
    return npy, ratings.astype(np.int64), np.arange(1, len(ratings) + 1)


def _check(
    path: Path, lines: np.ndarray, values: np.ndarray, bad: np.ndarray, problem: str
) -> None:
    """Raise ``problem`` at the first row where ``bad`` holds, naming its value."""
    if bad.any():
        first = int(np.argmax(bad))
        raise DataFormatError(path, f"{problem}, found {values[first]}", int(lines[first]))
