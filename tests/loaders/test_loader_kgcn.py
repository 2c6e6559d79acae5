"""KGCN / RippleNet format, on fixtures (ratings as .txt and as .npy) and on Book-Crossing."""

from __future__ import annotations

import numpy as np
import pytest

from kgrec.loaders import load_kgcn

BOTH_FORMATS = pytest.mark.parametrize("kgcn_dir", ["txt", "npy"], indirect=True)


@BOTH_FORMATS
def test_positives_load_and_sampled_negatives_are_skipped(store, kgcn_dir):
    report = load_kgcn(store, kgcn_dir)
    assert report.nodes == {"User": 3, "Item": 3, "Entity": 2}  # user 2 has only a negative
    assert (report.interactions, report.skipped, report.triples) == (2, 3, 3)
    assert report.relations == {"0": "r0", "1": "r1"}
    snap = store.snapshot()
    pairs = list(zip(snap.interactions.user.tolist(), snap.interactions.item.tolist()))
    assert [(snap.node_ids["user"][u], snap.node_ids["item"][i]) for u, i in pairs] == [
        ("0", "0002005018"),  # items keep the dataset's own ids (ISBNs)
        ("1", "0060973129"),
    ]
    assert set(snap.triples) == {("item", "r0", "entity"), ("entity", "r1", "entity")}
    assert store.get_nodes("item", ["0060973129"])[0].properties == {"item_index": 1}


def ratings_path(kgcn_dir):
    return next((kgcn_dir / "preprocessed").glob("ratings_final.*"))


def write_ratings(path, rows):
    if path.suffix == ".npy":
        np.save(path, np.array(rows, dtype=np.int64))
    else:
        path.write_text("".join(" ".join(map(str, r)) + "\n" for r in rows))


@pytest.mark.parametrize(
    ("rows", "where"),
    [
        ([[0, 0, 1], [1, 1, 2]], dict(line=2, problem="label must be 0 or 1, found 2")),
        ([[0, 0, 1], [0, 1, 1], [1, 3, 1]], dict(line=3, problem="unknown item index, found 3")),
        ([[-1, 0, 1]], dict(line=1, problem="user index must not be negative")),
    ],
)
@BOTH_FORMATS
def test_bad_ratings_leave_the_store_as_it_was(store, kgcn_dir, expect_rejected, rows, where):
    load_kgcn(store, kgcn_dir)
    path = ratings_path(kgcn_dir)
    write_ratings(path, rows)
    expect_rejected(store, lambda: load_kgcn(store, kgcn_dir), path=path.name, **where)


@pytest.mark.parametrize(
    ("kgcn_dir", "name", "content", "where"),
    [
        ("txt", "kg_final.txt", "0\t0\t3\n3\t1", dict(line=2, problem="truncated")),
        (
            "txt",
            "ratings_final.txt",
            "0\t0\t1\n1\tx\t1\n",
            dict(line=2, problem="item index must be an integer"),
        ),
        (
            "npy",
            "ratings_final.npy",
            b"\x93NUMPY\x01\x00v\x00{'descr': '<i8', 'fortran_order'",
            dict(problem="cannot read the array"),
        ),
    ],
    indirect=["kgcn_dir"],
)
def test_malformed_files_name_file_and_line(
    memory_store, kgcn_dir, expect_rejected, name, content, where
):
    path = kgcn_dir / "preprocessed" / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    expect_rejected(memory_store, lambda: load_kgcn(memory_store, kgcn_dir), path=name, **where)


@pytest.mark.shared_data
def test_shared_book_crossing_counts(memory_store, shared_data):
    """The published Book-Crossing statistics (RippleNet / KGCN papers and the folder README)."""
    report = load_kgcn(memory_store, shared_data / "kgcn-book-crossing")
    assert report.nodes["User"] == 17_860
    assert report.nodes["Item"] == 14_967
    assert report.interactions + report.skipped == 139_746  # rating rows
    assert report.interactions == report.skipped == 69_873  # positives, sampled negatives
    assert report.triples == 151_500
    assert len(report.relations) == 25
    snap = memory_store.snapshot()
    kg_nodes = {
        (node_type, int(k))
        for (head, _, tail), edges in snap.triples.items()
        for node_type, row in ((head, edges[0]), (tail, edges[1]))
        for k in row.unique().tolist()
    }
    assert len(kg_nodes) == 77_903  # entities, items included
    assert report.nodes["Entity"] == 77_903 - 14_967
    # Items keep the dataset's own ids (ISBNs), linked to the KG by the item index file.
    assert memory_store.get_nodes("item", ["0002005018"])[0].properties == {"item_index": 0}
    assert len(memory_store.neighbours("item", "0771074670")) > 0  # item index 2's KG edges
