"""Plain CSV/TSV tables with a column mapping."""

from __future__ import annotations

import pytest

from kgrec import InvalidValueError
from kgrec.loaders import TriplesCsv, load_csv


def test_csv_tables_with_a_column_mapping(store, load_csv_tables):
    report = load_csv_tables(store)
    assert report.nodes == {"User": 2, "Item": 2, "Entity": 2}  # users come from the interactions
    assert (report.interactions, report.triples) == (3, 4)
    assert report.relations == {"directed by": "director", "sequel": "sequel", "knows": "knows"}
    heat, up = store.get_nodes("item", ["10", "11"])
    assert (heat.name, heat.text, heat.properties) == (
        "Heat, the film",
        "title: Heat, the film; genres: Crime|Drama",
        {"year": "1995"},
    )
    assert (up.text, up.properties) == ("title: Up; genres: Animation", {})
    assert store.get_nodes("entity", ["p1"])[0].text == "Michael Mann"
    assert set(store.snapshot().triples) == {
        ("item", "director", "entity"),
        ("item", "sequel", "item"),
        ("entity", "knows", "entity"),
    }
    t = store.snapshot().interactions
    assert t.rating.isnan().tolist() == [False, True, False]
    assert (t.timestamp.tolist(), t.split.tolist()) == ([100, -1, 200], [0, 2, 0])


def test_nodes_without_a_table_are_created_with_their_id_only(memory_store, tmp_path):
    (tmp_path / "kg.csv").write_text("head,relation,tail\nb1,author,a1\n")
    report = load_csv(memory_store, triples=TriplesCsv(tmp_path / "kg.csv", head_label="item"))
    assert report.nodes == {"User": 0, "Item": 1, "Entity": 1}
    assert memory_store.get_nodes("item", ["b1"])[0].text is None


def test_a_triple_label_cannot_be_user(memory_store, load_csv_tables):
    with pytest.raises(InvalidValueError, match="cannot be user"):
        load_csv_tables(memory_store, tail_label="user")


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        (
            "kg.tsv",
            "h\tr\tt\n10\tdirected by\tp9\n",
            dict(line=2, problem="unknown entity id 'p9'"),
        ),
        (
            "kg.tsv",
            "h\tr\tt\n10\tdirected by\tp1\n10\tdirector\tp2\n",
            dict(line=3, problem="'directed by' and 'director' both map to 'director'"),
        ),
        ("kg.tsv", "head\tr\tt\n", dict(line=1, problem="no column 'h'")),
        (
            "ratings.csv",
            "userId,movieId,rating,ts,fold\nu1,12,4,1,train\n",
            dict(line=2, problem="unknown item id '12'"),
        ),
        (
            "ratings.csv",
            "userId,movieId,rating,ts,fold\nu1,10,4,1,dev\n",
            dict(line=2, problem="split must be one of"),
        ),
        (
            "ratings.csv",
            "userId,movieId,rating,ts,fold\nu1,10,4,1\n",
            dict(line=2, problem="expected 5 fields, found 4"),
        ),
        (
            "ratings.csv",
            'userId,movieId,rating,ts,fold\nu1,"10,4,1,dev\n',
            dict(line=2, problem="bad CSV: unexpected end"),
        ),
        (
            "movies.csv",
            "movieId,title,genres,year\n10,Heat,Crime,1995\n,Up,Animation,\n",
            dict(line=3, problem="empty movieId"),
        ),
        (
            "movies.csv",
            b"movieId,title,genres,year\n10,H\xe9at,Crime,1995\n",
            dict(line=2, problem="not valid utf-8"),
        ),
    ],
)
def test_bad_csv_tables_leave_the_store_as_it_was(
    store, csv_tables, load_csv_tables, expect_rejected, name, text, where
):
    load_csv_tables(store)
    (csv_tables / name).write_bytes(text if isinstance(text, bytes) else text.encode())
    expect_rejected(store, lambda: load_csv_tables(store), path=name, **where)
