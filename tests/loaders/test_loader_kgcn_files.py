"""load_kgcn: files by explicit path or documented place (no search), the dataset's own item
ids, a split file, and entity indices that never merge into items by coincidence (issue #9,
defects 12b and 12e)."""

from __future__ import annotations

import collections
import shutil

import pytest

from kgrec import InvalidValueError
from kgrec.loaders import load_kgcn

RATINGS = "0\t0\t1\n0\t2\t0\n1\t1\t1\n1\t0\t0\n2\t2\t0\n"


def test_explicit_paths_with_any_names(memory_store, tmp_path):
    (tmp_path / "r.tsv").write_text(RATINGS)
    (tmp_path / "kg.txt").write_text("0\t0\t3\n3\t1\t4\n1\t0\t4\n")
    (tmp_path / "items.txt").write_text("0002005018\t0\n0060973129\t1\n0374157065\t2\n")
    report = load_kgcn(
        memory_store,
        ratings=tmp_path / "r.tsv",
        kg=tmp_path / "kg.txt",
        item_index=tmp_path / "items.txt",
    )
    assert report.nodes == {"User": 3, "Item": 3, "Entity": 2}
    assert memory_store.snapshot().node_ids["item"] == ["0002005018", "0060973129", "0374157065"]


def test_the_flat_layout_of_the_kgcn_repository(memory_store, kgcn_dir):
    for sub in ("preprocessed", "raw"):
        for path in (kgcn_dir / sub).iterdir():
            path.rename(kgcn_dir / path.name)
        (kgcn_dir / sub).rmdir()
    assert load_kgcn(memory_store, kgcn_dir).nodes == {"User": 3, "Item": 3, "Entity": 2}


def test_files_are_not_searched_for_in_other_folders(memory_store, kgcn_dir):
    shutil.move(kgcn_dir / "raw", kgcn_dir / "elsewhere")
    with pytest.raises(FileNotFoundError, match="item_index2entity_id"):
        load_kgcn(memory_store, kgcn_dir)


def test_data_dir_or_every_path_is_needed(memory_store, tmp_path):
    with pytest.raises(InvalidValueError, match=r"or the paths \['kg', 'item_index'\]"):
        load_kgcn(memory_store, ratings=tmp_path / "r.txt")


def test_items_keep_the_dataset_ids_and_kg_links_follow_the_index_file(store, tmp_path):
    """Items 0-2 are KG entities 100-102; KG entity 1 is not item 1 (their numbers merely
    coincide), so it stays an Entity."""
    (tmp_path / "ratings_final.txt").write_text(RATINGS)
    (tmp_path / "kg_final.txt").write_text("100\t0\t1\n101\t0\t1\n1\t1\t102\n7\t1\t8\n")
    (tmp_path / "item_index2entity_id.txt").write_text("isbn-a\t100\nisbn-b\t101\nisbn-c\t102\n")
    report = load_kgcn(store, tmp_path)
    assert report.nodes == {"User": 3, "Item": 3, "Entity": 3}
    snap = store.snapshot()
    assert snap.node_ids["entity"] == ["1", "7", "8"]
    assert {k: v.shape[1] for k, v in snap.triples.items()} == {
        ("item", "r0", "entity"): 2,
        ("entity", "r1", "item"): 1,
        ("entity", "r1", "entity"): 1,
    }
    assert store.get_nodes("item", ["isbn-c"])[0].properties == {"item_index": 2}


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("a\t1\nb\t1\n", 2, "entity index 1 given to two items"),
        ("a\t1\na\t2\n", 2, "item id 'a' listed twice"),
    ],
)
def test_a_bad_item_index_file_is_refused(
    memory_store, kgcn_dir, expect_rejected, text, line, problem
):
    (kgcn_dir / "raw" / "item_index2entity_id_rehashed.txt").write_text(text)
    expect_rejected(
        memory_store, lambda: load_kgcn(memory_store, kgcn_dir), line=line, problem=problem
    )


SPLIT = "user_id\titem_id\tsplit\n0\t0002005018\ttrain\n1\t0060973129\ttest\n"


def test_a_split_file_gives_the_splits(store, kgcn_dir, tmp_path):
    (tmp_path / "split.tsv").write_text(SPLIT)
    report = load_kgcn(store, kgcn_dir, split_file=tmp_path / "split.tsv")
    assert (report.interactions, report.skipped) == (2, 3)
    snap = store.snapshot()
    assert collections.Counter(snap.interactions.split.tolist()) == {0: 1, 2: 1}


@pytest.mark.parametrize(
    ("rows", "line", "problem"),
    [
        ("0\t0060973129\ttrain\n", 2, "is not a positive rating"),
        ("0\t0002005018\ttrain\n0\t0002005018\ttest\n", 3, "listed twice"),
        ("0\t0002005018\tdev\n", 2, "split must be one of"),
    ],
)
def test_a_bad_split_file_is_refused(
    memory_store, kgcn_dir, tmp_path, expect_rejected, rows, line, problem
):
    (tmp_path / "split.tsv").write_text("user_id\titem_id\tsplit\n" + rows)
    expect_rejected(
        memory_store,
        lambda: load_kgcn(memory_store, kgcn_dir, split_file=tmp_path / "split.tsv"),
        path="split.tsv",
        line=line,
        problem=problem,
    )
