"""Relation names from data are mapped, not refused: a caller's relation_map (mapping or
function) first, else a deterministic valid name; collisions refused; the report lists the
mapping; nothing is ever spliced into Cypher (issue #9, defect 12a)."""

from __future__ import annotations

import pytest

from kgrec.loaders import TriplesCsv, load_csv, load_kgat, load_kgcn, load_rdf
from kgrec.loaders._relations import default_relation_name

INJECTION = "x`]->(n) DETACH DELETE n //"


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("music.artist.origin", "music_artist_origin"),
        ("film.film.genre", "film_film_genre"),
        ("http://rdf.freebase.com/ns/film.film.genre", "film_film_genre"),
        ("dbo:starring", "starring"),
        ("/film/film/genre", "film_film_genre"),
        ("directed by", "directed_by"),
        ("0", "r0"),
        ("née", "nee"),
        ("has_genre", "has_genre"),
        (INJECTION, "x_n_DETACH_DELETE_n"),
        ("a" * 100, "a" * 64),
    ],
)
def test_default_relation_name(source, name):
    assert default_relation_name(source) == name


def _kg(tmp_path, rows: str):
    path = tmp_path / "kg.tsv"
    path.write_text("head\trelation\ttail\n" + rows)
    return path


def test_csv_maps_freebase_style_names_and_reports_them(store, tmp_path):
    path = _kg(
        tmp_path,
        f"a1\tmusic.artist.origin\tc1\na1\tmusic.artist.genre\tg1\na1\t{INJECTION}\tc1\n",
    )
    before = store.stats()
    report = load_csv(store, triples=TriplesCsv(path, head_label="item"))
    assert report.relations == {
        "music.artist.origin": "music_artist_origin",
        "music.artist.genre": "music_artist_genre",
        INJECTION: "x_n_DETACH_DELETE_n",
    }
    stats = store.stats()
    assert stats.relationships == {
        **before.relationships,
        "music_artist_origin": 1,
        "music_artist_genre": 1,
        "x_n_DETACH_DELETE_n": 1,
    }
    assert report.nodes == {"User": 0, "Item": 1, "Entity": 2}


@pytest.mark.parametrize(
    "relation_map",
    [
        {"music.artist.origin": "origin", "music.artist.genre": None},
        lambda source: {"music.artist.origin": "origin"}.get(source),
    ],
    ids=["mapping", "function"],
)
def test_csv_relation_map_renames_and_skips(memory_store, tmp_path, relation_map):
    path = _kg(tmp_path, "a1\tmusic.artist.origin\tc1\na1\tmusic.artist.genre\tg1\n")
    triples = TriplesCsv(path, head_label="item", relation_map=relation_map)
    report = load_csv(memory_store, triples=triples)
    assert report.relations == {"music.artist.origin": "origin"}
    assert (report.triples, report.skipped) == (1, 1)
    assert report.nodes["Entity"] == 1  # g1 is only reached by the skipped relation


@pytest.mark.parametrize(
    ("rows", "relation_map", "line", "problem"),
    [
        (
            "a\tfilm.genre\tb\na\tfilm_genre\tc\n",
            {},
            3,
            "'film.genre' and 'film_genre' both map to 'film_genre'",
        ),
        ("a\tx\tb\n", {"x": INJECTION}, 2, "invalid relation name"),
        ("a\tx\tb\n", lambda s: "INTERACTED", 2, "reserved for user-item interactions"),
        ("a\tx\tb\n", lambda s: 7, 2, "relation_map gave 7 for 'x': not a str"),
    ],
)
def test_bad_names_are_refused_before_any_write(
    store, tmp_path, expect_rejected, rows, relation_map, line, problem
):
    path = _kg(tmp_path, rows)
    expect_rejected(
        store,
        lambda: load_csv(
            store, triples=TriplesCsv(path, head_label="item", relation_map=relation_map)
        ),
        path="kg.tsv",
        line=line,
        problem=problem,
    )


def test_kgcn_relation_map(memory_store, kgcn_dir):
    report = load_kgcn(memory_store, kgcn_dir, relation_map={"0": "author", "1": None})
    assert (report.relations, report.triples) == ({"0": "author"}, 2)
    assert report.skipped == 3 + 1  # the sampled negatives, and the triple of relation 1


def test_kgat_relation_map_over_list_names(memory_store, kgat_dir, kgat_lists):
    (kgat_dir / "relation_list.txt").write_text(kgat_lists["relation_list.txt"])
    report = load_kgat(memory_store, kgat_dir, relation_map=lambda source: source.split(".")[-1])
    assert report.relations == {"film.film.genre": "genre", "film.genre.parent": "parent"}


def test_rdf_local_names_are_made_valid(memory_store, tmp_path):
    path = tmp_path / "g.nt"
    path.write_text(
        "<http://ex.org/a> <http://rdf.freebase.com/ns/music.artist.origin> <http://ex.org/b> .\n"
        '<http://ex.org/a> <http://ex.org/has-genre> "rock" .\n'
    )
    report = load_rdf(memory_store, path)
    origin = "http://rdf.freebase.com/ns/music.artist.origin"
    assert report.relations == {origin: "music_artist_origin"}
    node = memory_store.get_nodes("entity", ["http://ex.org/a"])[0]
    assert node.properties == {"has_genre": "rock"}
