"""load_csv for a listening dataset with a Freebase-style KG: headerless TSV by column
position, node tables cut to the rows the load refers to, and KG ids that equal item ids
refused unless they are said to be shared (issue #9, defects 12c, 12d, 12e)."""

from __future__ import annotations

import pytest

from kgrec import InvalidValueError
from kgrec.loaders import InteractionsCsv, NodesCsv, TriplesCsv, load_csv


@pytest.fixture
def listening(tmp_path):
    """Headerless TSVs: 3 artists (items), 2 users' plays, a KG over 2 artists with 5
    Freebase entities in its entity table, of which the KG links 2."""
    (tmp_path / "artists.tsv").write_text(
        "a1\tRadiohead\tUK band\na2\tBjörk\tsinger\na3\tMuse\tband\n"
    )
    (tmp_path / "plays.tsv").write_text("u1\ta1\t120\nu1\ta2\t3\nu2\ta1\t40\n")
    (tmp_path / "kg.tsv").write_text(
        "a1\tmusic.artist.origin\tm.uk\na2\tmusic.artist.genre\tm.pop\n"
    )
    (tmp_path / "entities.tsv").write_text(
        "m.uk\tUnited Kingdom\nm.pop\tPop\nm.rock\tRock\nm.is\tIceland\nm.jazz\tJazz\n"
    )
    return tmp_path


def _load(store, base, *, only_referenced=False):
    return load_csv(
        store,
        nodes=[
            NodesCsv(base / "artists.tsv", "item", id=0, name=1, text=(2,), header=False),
            NodesCsv(
                base / "entities.tsv", "entity", id=0, name=1, header=False,
                only_referenced=only_referenced,
            ),
        ],
        interactions=InteractionsCsv(base / "plays.tsv", user=0, item=1, weight=2, header=False),
        triples=TriplesCsv(
            base / "kg.tsv", head=0, relation=1, tail=2, header=False, head_label="item"
        ),
    )


def test_headerless_tsv_by_column_position(store, listening):
    report = _load(store, listening)
    assert report.nodes == {"User": 2, "Item": 3, "Entity": 5}
    assert (report.interactions, report.triples) == (3, 2)
    assert report.relations == {
        "music.artist.origin": "music_artist_origin",
        "music.artist.genre": "music_artist_genre",
    }
    bjork = store.get_nodes("item", ["a2"])[0]
    assert (bjork.name, bjork.text) == ("Björk", "singer")
    assert store.snapshot().interactions.weight.tolist() == [120.0, 3.0, 40.0]


def test_only_referenced_keeps_the_rows_the_load_links(store, listening):
    report = _load(store, listening, only_referenced=True)
    assert report.nodes == {"User": 2, "Item": 3, "Entity": 2}
    assert (report.unreferenced, report.skipped) == ({"Entity": 3}, 3)
    assert sorted(store.snapshot().node_ids["entity"]) == ["m.pop", "m.uk"]
    assert store.get_nodes("entity", ["m.uk"])[0].name == "United Kingdom"


def test_headerless_columns_are_checked(memory_store, listening, expect_rejected):
    with pytest.raises(InvalidValueError, match="header=False: name its columns by position"):
        load_csv(memory_store, nodes=[NodesCsv(listening / "artists.tsv", "item", header=False)])
    expect_rejected(
        memory_store,
        lambda: load_csv(
            memory_store, nodes=[NodesCsv(listening / "artists.tsv", "item", id=3, header=False)]
        ),
        path="artists.tsv",
        problem="no column 3: rows have 3 fields",
    )
    (listening / "plays.tsv").write_text("u1\ta1\t120\nu1\ta2\n")
    expect_rejected(
        memory_store,
        lambda: _load(memory_store, listening),
        path="plays.tsv",
        line=2,
        problem="expected 3 fields, found 2",
    )


def test_headerless_properties_need_keys(memory_store, listening):
    path = listening / "artists.tsv"
    table = NodesCsv(path, "item", id=0, properties={"bio": 2}, header=False)
    load_csv(memory_store, nodes=[table])
    assert memory_store.get_nodes("item", ["a3"])[0].properties == {"bio": "band"}
    with pytest.raises(InvalidValueError, match=r"give properties as \{key: column position\}"):
        load_csv(memory_store, nodes=[NodesCsv(path, "item", id=0, properties=[2], header=False)])


@pytest.fixture
def colliding(tmp_path):
    """Items 1-3 (artists) and a KG numbered on its own: KG ids 2 and 3 are not artists."""
    (tmp_path / "artists.tsv").write_text("1\tRadiohead\n2\tBjörk\n3\tMuse\n")
    (tmp_path / "kg.tsv").write_text("1\torigin\t2\n1\tgenre\t3\n3\tparent\t9\n")
    return tmp_path


def _load_colliding(store, base, **triple_options):
    return load_csv(
        store,
        nodes=[NodesCsv(base / "artists.tsv", "item", id=0, name=1, header=False)],
        triples=TriplesCsv(
            base / "kg.tsv", head=0, relation=1, tail=2, header=False, **triple_options
        ),
    )


def test_kg_ids_equal_to_item_ids_are_refused(store, colliding, expect_rejected):
    error = expect_rejected(
        store,
        lambda: _load_colliding(store, colliding),
        path="kg.tsv",
        line=1,
        problem="3 knowledge-graph ids are also item ids ('1', '2', '3'): pass shared_ids=True",
    )
    assert error.line == 1


def test_shared_ids_say_kg_ids_are_the_items(store, colliding):
    report = _load_colliding(store, colliding, shared_ids=True)
    assert report.nodes == {"User": 0, "Item": 3, "Entity": 1}  # only 9 is not an artist
    assert set(store.snapshot().triples) == {
        ("item", "origin", "item"),
        ("item", "genre", "item"),
        ("item", "parent", "entity"),
    }


def test_fixed_labels_keep_the_two_numberings_apart(memory_store, colliding):
    report = _load_colliding(memory_store, colliding, head_label="item", tail_label="entity")
    assert report.nodes == {"User": 0, "Item": 3, "Entity": 3}  # entities 2, 3 and 9
