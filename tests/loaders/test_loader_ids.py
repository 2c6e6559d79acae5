"""Numeric ids: only the ids that occur become nodes, and absurd ids are refused at once
(issue #9, defect 4)."""

from __future__ import annotations

import time

import pytest

from kgrec.loaders import load_kgat, load_kgcn

HUGE = "9" * 25


def test_one_large_item_id_makes_one_item(store, tmp_path):
    (tmp_path / "train.txt").write_text("1 1000000\n")
    (tmp_path / "test.txt").write_text("")
    report = load_kgat(store, tmp_path)
    assert report.nodes == {"User": 1, "Item": 1, "Entity": 0}  # not 1,000,001 items
    assert store.snapshot().node_ids["item"] == ["1000000"]


def test_one_large_entity_id_makes_one_entity(memory_store, kgat_dir):
    (kgat_dir / "kg_final.txt").write_text("0 0 999999999999999999\n")
    report = load_kgat(memory_store, kgat_dir)
    assert report.nodes == {"User": 3, "Item": 3, "Entity": 1}
    assert memory_store.snapshot().node_ids["entity"] == ["999999999999999999"]


@pytest.mark.parametrize(
    ("name", "text", "line", "problem"),
    [
        ("train.txt", f"0 0 1\n1 {HUGE}\n", 2, f"item id must be between 0 and {10**18 - 1}"),
        ("test.txt", f"{HUGE} 2\n", 1, "user id must be between 0 and"),
        ("kg_final.txt", f"0 0 3\n0 0 {HUGE}\n", 2, "tail entity id must be between 0 and"),
        ("train.txt", "0 1000000000000000000\n", 1, f"item id must be between 0 and {10**18 - 1}"),
        ("train.txt", "0 " + "1" * 5000 + "\n", 1, "item id must be between 0 and"),
    ],
)
def test_absurd_kgat_ids_are_refused_quickly(
    store, kgat_dir, expect_rejected, name, text, line, problem
):
    load_kgat(store, kgat_dir)
    (kgat_dir / name).write_text(text)
    started = time.perf_counter()
    error = expect_rejected(
        store, lambda: load_kgat(store, kgat_dir), path=name, line=line, problem=problem
    )
    assert time.perf_counter() - started < 5
    assert len(str(error)) < 400  # the value is quoted cut short, never whole


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("kg_final.txt", f"0\t0\t{HUGE}\n", "tail entity id must be between 0 and"),
        ("ratings_final.txt", f"0\t0\t1\n{HUGE}\t1\t1\n", "user index must be between"),
    ],
)
def test_absurd_kgcn_ids_are_refused(memory_store, kgcn_dir, expect_rejected, name, text, problem):
    (kgcn_dir / "preprocessed" / name).write_text(text)
    expect_rejected(
        memory_store, lambda: load_kgcn(memory_store, kgcn_dir), path=name, problem=problem
    )
