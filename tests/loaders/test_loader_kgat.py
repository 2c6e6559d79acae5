"""KGAT / KGIN format. No KGAT-format copy is in the shared data, so only fixtures here."""

from __future__ import annotations

import pytest

from kgrec.loaders import load_kgat


def test_items_are_the_first_entities(store, kgat_dir):
    report = load_kgat(store, kgat_dir)
    assert report.nodes == {"User": 3, "Item": 3, "Entity": 2}
    assert (report.interactions, report.triples, report.skipped) == (5, 4, 0)
    assert report.relations == {"0": "r0", "1": "r1"}
    snap = store.snapshot()
    assert snap.node_ids == {"user": ["0", "1", "2"], "item": ["0", "1", "2"], "entity": ["3", "4"]}
    assert set(snap.triples) == {
        ("item", "r0", "entity"),
        ("item", "r1", "entity"),
        ("entity", "r1", "entity"),
    }
    splits = {
        (snap.node_ids["user"][u], snap.node_ids["item"][i]): ("train", "valid", "test")[s]
        for u, i, s in zip(
            *(
                t.tolist()
                for t in (snap.interactions.user, snap.interactions.item, snap.interactions.split)
            )
        )
    }
    assert splits == {
        ("0", "0"): "train",
        ("0", "1"): "train",
        ("1", "2"): "train",
        ("0", "2"): "test",
        ("1", "0"): "test",
    }


def test_list_files_name_nodes_and_relations(store, kgat_dir, kgat_lists):
    for name, text in kgat_lists.items():
        (kgat_dir / name).write_text(text)
    report = load_kgat(store, kgat_dir)
    assert report.relations == {
        "film.film.genre": "film_film_genre",
        "film.genre.parent": "film_genre_parent",
    }
    assert store.get_nodes("item", ["1"])[0].properties == {"org_id": "B2", "freebase_id": "m.2"}
    assert store.get_nodes("user", ["2"])[0].properties == {"org_id": "A3"}
    assert store.get_nodes("entity", ["4"])[0].properties == {"org_id": "m.5"}


def test_items_without_interactions_count_up_to_the_largest_listed_id(
    memory_store, kgat_dir, kgat_lists
):
    (kgat_dir / "item_list.txt").write_text(kgat_lists["item_list.txt"] + "B4 3 m.9\n")
    report = load_kgat(memory_store, kgat_dir)
    # entity 3 is now item 3, so the triple heading from it starts at an Item.
    assert report.nodes == {"User": 3, "Item": 4, "Entity": 1}


@pytest.mark.parametrize(
    ("files", "where"),
    [
        (
            {"kg_final.txt": "0 0 3\n1 0\n"},
            dict(path="kg_final.txt", line=2, problem="expected 3 fields, found 2"),
        ),
        (
            {"kg_final.txt": "0 r0 3\n"},
            dict(path="kg_final.txt", line=1, problem="relation id must be an integer"),
        ),
        (
            {"entity_list.txt": "org_id remap_id\nm.4 3\n"},
            dict(path="kg_final.txt", line=3, problem="unknown entity id 4"),
        ),
        (
            {"item_list.txt": "org_id remap_id freebase_id\nB1 0 m.1\nB2 1 m.2\n"},
            dict(path="train.txt", line=2, problem="unknown item id 2"),
        ),
        (
            {"user_list.txt": "org_id remap_id\nA1 0\n"},
            dict(path="train.txt", line=2, problem="unknown user id 1"),
        ),
        (
            {"user_list.txt": "org_id remap_id\nA1 0\nA1 0\n"},
            dict(path="user_list.txt", line=3, problem="listed twice"),
        ),
        (
            {"user_list.txt": "org-id remap_id\nA1 0\n"},
            dict(path="user_list.txt", line=1, problem="invalid property key"),
        ),
        (
            {"test.txt": "0 2\n1 -4\n"},
            dict(path="test.txt", line=2, problem="item id must be at least 0"),
        ),
    ],
)
def test_bad_input_leaves_the_store_as_it_was(store, kgat_dir, expect_rejected, files, where):
    load_kgat(store, kgat_dir)
    for name, text in files.items():
        (kgat_dir / name).write_text(text)
    expect_rejected(store, lambda: load_kgat(store, kgat_dir), **where)
