"""RDF: streamed N-Triples, the other rdflib formats, the mapping rules, errors and the export
round trip."""

from __future__ import annotations

import pytest
from rdflib import Graph

from kgrec.graph import Interaction, NodeLabel, NodeRecord, Triple
from kgrec.loaders import export_rdf, load_movielens100k, load_rdf

EX = "http://ex.org/"
FILMS = {f"{EX}film/1", f"{EX}film/2"}


def test_n_triples_streamed_in_batches(store, nt_file):
    report = load_rdf(store, nt_file, batch_size=2)
    assert report.nodes == {"User": 0, "Item": 0, "Entity": 4}
    assert (report.triples, report.skipped) == (4, 1)  # the blank-node statement is skipped
    assert report.relations == {
        f"{EX}onto/starring": "starring",
        f"{EX}onto/director": "director",
        f"{EX}onto/sequelOf": "sequelOf",
    }
    film, ann, bob = store.get_nodes(
        "entity", [f"{EX}film/1", f"{EX}person/Ann", f"{EX}person/Bob"]
    )
    assert (film.text, film.name, film.properties) == (
        "Film One",
        "Film One",
        {"genre": ["drama", "crime"]},
    )
    assert (ann.text, ann.properties) == ("Ann Actor", {"born": 1970})
    assert (bob.text, bob.name) == (None, None)
    assert [
        (n.relation, n.outgoing, n.node.id) for n in store.neighbours("entity", f"{EX}person/Ann")
    ] == [
        ("starring", False, f"{EX}film/1"),
        ("starring", False, f"{EX}film/2"),
    ]


@pytest.mark.parametrize("item_ids", [FILMS, lambda iri: "/film/" in iri], ids=["set", "callable"])
def test_item_ids_decide_which_iris_are_items(memory_store, nt_file, item_ids):
    report = load_rdf(memory_store, nt_file, item_ids=item_ids)
    assert report.nodes == {"User": 0, "Item": 2, "Entity": 2}
    assert set(memory_store.snapshot().triples) == {
        ("item", "starring", "entity"),
        ("item", "director", "entity"),
        ("item", "sequelOf", "item"),
    }


def test_relation_map_renames_and_skips(memory_store, nt_file):
    report = load_rdf(
        memory_store,
        nt_file,
        relation_map={f"{EX}onto/starring": "actor", f"{EX}onto/genre": None},
        text_predicate=f"{EX}onto/born",
    )
    assert set(report.relations.values()) == {"actor", "director", "sequelOf"}
    assert report.skipped == 1 + 2  # the blank node and both genre literals
    film, ann = memory_store.get_nodes("entity", [f"{EX}film/1", f"{EX}person/Ann"])
    assert (ann.text, film.text) == ("1970", None)
    assert ann.properties == {"label": "Ann Actor"}  # rdfs:label is a plain literal property now


@pytest.mark.filterwarnings(
    "ignore:ConjunctiveGraph is deprecated:DeprecationWarning"
)  # rdflib's JSON-LD parser
@pytest.mark.parametrize(
    ("fmt", "suffix"), [("turtle", "ttl"), ("xml", "rdf"), ("json-ld", "jsonld")]
)
def test_other_formats_give_the_same_graph(memory_store, nt_file, tmp_path, fmt, suffix):
    load_rdf(memory_store, nt_file)
    path = tmp_path / f"films.{suffix}"
    Graph().parse(nt_file, format="nt").serialize(destination=str(path), format=fmt)
    other = type(memory_store)()
    report = load_rdf(other, path)  # format guessed from the suffix
    assert (report.triples, report.skipped) == (4, 1)
    assert other.snapshot().equals(memory_store.snapshot())
    ids = [f"{EX}film/1", f"{EX}person/Ann"]
    assert sorted(other.get_nodes("entity", ids)[0].properties["genre"]) == ["crime", "drama"]
    assert other.get_nodes("entity", ids)[1] == memory_store.get_nodes("entity", ids)[1]


SUBJ, PRED, OBJ = f"<{EX}s>", f"<{EX}onto/p>", f"<{EX}o>"
RDF_NS, KGREC_ID, KGREC_SCHEMA = (
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "https://kgrec.dev/id/",
    "https://kgrec.dev/schema#",
)
INTERACTION = f"<{KGREC_ID}interaction/1/1>"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (f"{SUBJ} {PRED} {OBJ} .\n{SUBJ} {PRED} .\n", dict(line=2, problem="not N-Triples")),
        (f"{SUBJ} {PRED} {OBJ} .\n{SUBJ} {PRED} {OBJ}", dict(line=2, problem="truncated")),
        (
            f"{SUBJ} {PRED} {OBJ} .\n{SUBJ} <http://other.org/p> {OBJ} .\n",
            dict(line=2, problem="both map to 'p'"),
        ),
        (
            f'{SUBJ} <http://xmlns.com/foaf/0.1/name> "S" .\n',
            dict(line=1, problem="reserved by kgrec"),
        ),
        (
            f"{SUBJ} <{EX}onto/INTERACTED> {OBJ} .\n",
            dict(line=1, problem="reserved for user-item interactions"),
        ),
        (f"{SUBJ} {PRED} <{KGREC_ID}user/1> .\n", dict(line=1, problem="is a User")),
        (f"<{KGREC_ID}user/1> {PRED} <{KGREC_ID}item/1> .\n", dict(line=1, problem="must end at an entity")),
        (
            f"<{KGREC_ID}item/1> <{RDF_NS}type> <{KGREC_SCHEMA}Entity> .\n",
            dict(line=1, problem="is typed both Item and Entity"),
        ),
        (
            f'{INTERACTION} <{KGREC_SCHEMA}split> "dev" .\n'
            f"{INTERACTION} <{RDF_NS}subject> <{KGREC_ID}user/1> .\n"
            f"{INTERACTION} <{RDF_NS}object> <{KGREC_ID}item/1> .\n",
            dict(line=1, problem="split of interaction"),
        ),
        (f'{SUBJ} {PRED} "caf\xe9" .\n'.encode("latin-1"), dict(line=1, problem="not valid utf-8")),
    ],
)
def test_bad_rdf_leaves_the_store_as_it_was(store, nt_file, tmp_path, expect_rejected, text, where):
    load_rdf(store, nt_file)
    bad = tmp_path / "bad.nt"
    bad.write_bytes(text if isinstance(text, bytes) else text.encode())
    expect_rejected(store, lambda: load_rdf(store, bad, batch_size=1), path="bad.nt", **where)


def test_turtle_syntax_errors_name_the_line(memory_store, tmp_path, expect_rejected):
    bad = tmp_path / "bad.ttl"
    bad.write_text(f"@prefix ex: <{EX}> .\n\nex:s ex:p ex:o .\nex:s ex:p .\n")
    expect_rejected(
        memory_store, lambda: load_rdf(memory_store, bad), line=4, problem="not valid turtle"
    )


def test_unknown_format(memory_store, tmp_path, expect_rejected):
    path = tmp_path / "graph.data"
    path.write_text("")
    expect_rejected(memory_store, lambda: load_rdf(memory_store, path), problem="pass format=")


def build_graph(store, movielens) -> None:
    """The MovieLens fixture plus ids and values that RDF has to escape or leave out."""
    load_movielens100k(
        store, movielens.data_dir, kg_dir=movielens.kg_dir, split_file=movielens.split_file
    )
    store.upsert_nodes(
        "user", [NodeRecord("u 2/x", properties={"tags": ["a", "b"], "score": 0.5, "vip": True})]
    )
    store.upsert_nodes("item", [NodeRecord("urn:isbn:0451450523", None, "A Book")])
    store.upsert_interactions(
        [
            Interaction("u 2/x", "1", None, 0.1, None, "test"),
            Interaction("1", "urn:isbn:0451450523", 3.7),
        ]
    )
    store.upsert_triples([Triple("genre:Comedy", "related", "genre:Comedy")])


def all_nodes(store, snapshot) -> dict:
    """Every node's (text, name, properties); property lists as sorted tuples, since RDF keeps
    repeated values unordered and a one-value list comes back as that value."""
    return {
        (label, r.id): (
            r.text,
            r.name,
            {k: tuple(sorted(v if isinstance(v, list) else [v])) for k, v in r.properties.items()},
        )
        for label in NodeLabel
        for r in store.get_nodes(label, snapshot.node_ids[label.key])
    }


@pytest.mark.parametrize("fmt", ["turtle", "nt"])
def test_export_round_trip(store, movielens, tmp_path, fmt):
    build_graph(store, movielens)
    before = store.snapshot()
    nodes = all_nodes(store, before)
    path = tmp_path / f"graph.{fmt}"
    assert export_rdf(store, path, fmt) > 0
    store.clear()
    report = load_rdf(store, path, format=fmt)
    assert report.skipped == 0
    assert store.snapshot().equals(before)
    assert all_nodes(store, before) == nodes


def test_export_refuses_an_iri_naming_two_labels(memory_store, tmp_path):
    memory_store.upsert_nodes("item", [NodeRecord("http://x.org/1")])
    memory_store.upsert_nodes("entity", [NodeRecord("http://x.org/1")])
    with pytest.raises(ValueError, match=r"names nodes of two labels \(Item, Entity\)"):
        export_rdf(memory_store, tmp_path / "g.ttl")


@pytest.mark.shared_data
def test_shared_dbpedia_kg_nt(memory_store, shared_data):
    path = shared_data / "movielens-dbpedia-kg" / "derived" / "kg.nt"
    movies = set()
    with open(
        shared_data / "movielens-dbpedia-kg" / "derived" / "entities.tsv", encoding="utf-8"
    ) as f:
        movies = {line.split("\t")[0] for line in f if line.split("\t")[2] == "movie"}
    report = load_rdf(memory_store, path, item_ids=movies)
    assert report.nodes == {"User": 0, "Item": 3_084, "Entity": 13_199}  # 16,283 entities in all
    assert (report.triples, report.skipped) == (34_941, 0)
    assert sorted(report.relations.values()) == [
        "cinematography",
        "director",
        "distributor",
        "editing",
        "musicComposer",
        "producer",
        "starring",
        "writer",
    ]
    assert memory_store.stats().relationships["starring"] == 13_990
    brooks = memory_store.get_nodes("entity", ["http://dbpedia.org/resource/Mel_Brooks"])[0]
    assert (brooks.name, brooks.text) == ("Mel Brooks", "Mel Brooks")
