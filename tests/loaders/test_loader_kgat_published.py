"""KGAT-format files as published: list rows whose org id holds spaces and quotes or is empty,
datasets without a knowledge graph, and what per_user_split leaves out (issue #9, defect 11)."""

from __future__ import annotations

import logging

from kgrec.loaders import load_kgat
from kgrec.train import per_user_split

ENTITY_LIST = (
    "org_id remap_id\n"
    "m.1 0\n"
    "m.2 1\n"
    "m.3 2\n"
    '"Weird Al"  Yankovic\t3\n'  # spaces (two, and a tab) and quotes in the org id
    " 4\n"  # an empty org id
)
ITEM_LIST = 'org_id remap_id freebase_id\nB1 0 m.1\nThe "Best" Of 1 m.2\nB3 2 m.3\n'


def test_list_org_ids_with_spaces_quotes_or_nothing(store, kgat_dir):
    (kgat_dir / "entity_list.txt").write_text(ENTITY_LIST)
    (kgat_dir / "item_list.txt").write_text(ITEM_LIST)
    report = load_kgat(store, kgat_dir)
    assert report.nodes == {"User": 3, "Item": 3, "Entity": 2}
    weird, empty = store.get_nodes("entity", ["3", "4"])
    assert weird.properties == {"org_id": '"Weird Al"  Yankovic'}
    assert (empty.properties, empty.name) == ({}, None)
    best = store.get_nodes("item", ["1"])[0]
    assert best.properties == {"org_id": 'The "Best" Of', "freebase_id": "m.2"}


def test_a_list_row_missing_a_right_hand_column_is_refused(memory_store, kgat_dir, expect_rejected):
    (kgat_dir / "item_list.txt").write_text("org_id remap_id freebase_id\nB1 0 m.1\n1\n")
    expect_rejected(
        memory_store,
        lambda: load_kgat(memory_store, kgat_dir),
        path="item_list.txt",
        line=3,
        problem="expected 3 fields, found 1",
    )


def test_a_dataset_without_a_knowledge_graph_loads_its_interactions(store, kgat_dir, caplog):
    (kgat_dir / "kg_final.txt").unlink()
    with caplog.at_level(logging.INFO, logger="kgrec.loaders"):
        report = load_kgat(store, kgat_dir)
    assert report.nodes == {"User": 3, "Item": 3, "Entity": 0}
    assert (report.interactions, report.triples, report.relations) == (5, 0, {})
    assert any("kg_final.txt not found" in r.getMessage() for r in caplog.records)


def test_per_user_split_says_how_many_users_it_leaves_out(memory_store, tmp_path, caplog):
    (tmp_path / "train.txt").write_text(
        "0 0 1 2 3 4 5 6 7 8 9\n1 0 1 2\n2 5\n"  # users 1 and 2 have fewer than 5 rows
    )
    (tmp_path / "test.txt").write_text("")
    load_kgat(memory_store, tmp_path)
    with caplog.at_level(logging.INFO, logger="kgrec.train.splits"):
        snapshot = per_user_split(memory_store.snapshot(), {"valid": 0.2}, seed=0)
    valid_users = set(snapshot.interactions.user[snapshot.interactions.mask(["valid"])].tolist())
    assert valid_users == {snapshot.node_ids["user"].index("0")}
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert messages == [
        "per_user_split: 2 of 3 users with train rows have fewer than 5, keep them all in "
        "'train' and get none in ['valid']"
    ]
