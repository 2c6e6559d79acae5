"""A graph bulk-imported by neo4j-admin is the graph the transactional path writes.

The import runs into a Neo4j home of its own (``docker/neo4j.sh admin``, then ``start`` with its
own state dir), never into the shared test server, which holds the transactional load to compare
with.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from kgrec import Interaction, MemoryGraphStore, Neo4jGraphStore, NodeLabel, NodeRecord, Triple
from kgrec.errors import InvalidValueError, KgrecError
from kgrec.graph.bulk_import import await_schema, bulk_import, database_dir
from kgrec.graph.import_files import write_import_files
from tests.conftest import NEO4J_SCRIPT
from tests.graph.graphs import random_graph

ADMIN = ("bash", str(NEO4J_SCRIPT), "admin")
KGREC = "KgrecUser|KgrecItem|KgrecEntity"

#: An "admin" command that writes its arguments to the file named first, a line each.
RECORD_ARGV = "import sys; open(sys.argv[1], 'w').write('\\n'.join(sys.argv[2:]))"


def tricky_graph(store) -> None:
    """:func:`random_graph` plus every value shape a CSV could get wrong."""
    random_graph(store, seed=3)
    store.upsert_nodes(
        "User",
        [
            NodeRecord("1", 'says "hi",\nthen leaves', "One, \"the\" first", {"vip": True}),
            NodeRecord("empty", "", None, {"score": 2.5, "tags": ["a;b", "c|d"]}),
        ],
    )
    store.upsert_nodes(
        "Item",
        [
            NodeRecord("1", None, "Same id as user 1", {"year": 1999, "ratio": [0.5, 1.0]}),
            NodeRecord("x\ty", "tab in id", "Ünïcödé ✓", {"year": 2001.5, "flags": [True, False]}),
            NodeRecord("q\"uote", "quote in id", None, {"year": "unknown", "counts": [1, 2, 3]}),
        ],
    )
    store.upsert_nodes("Entity", [NodeRecord("occupation:writer", name="writer")])
    store.upsert_interactions(
        [
            Interaction("1", "1", rating=4, weight=2, timestamp=-5),
            Interaction("1", "x\ty", rating=None, timestamp=None, split="valid"),
            Interaction("empty", "q\"uote", rating=3.5, weight=0.25, split="test"),
            Interaction("empty", "1", rating=1e-7, weight=1e20, timestamp=2**62),
            Interaction("1", "2", 5.0, timestamp=7, split="feedback", kind="like", source="api"),
            Interaction("empty", "3", kind="dislike", source='app "x",\nv2', split="feedback"),
        ]
    )
    store.upsert_triples(
        [
            Triple("1", "has_occupation", "occupation:writer", "User", "Entity"),
            Triple("empty", "has_occupation", "occupation:writer", "User", "Entity"),
            Triple("1", "sequel_of", "1", "Item", "Item"),  # a self-loop
            Triple("x\ty", "remake_of", "q\"uote", "Item", "Item"),
            Triple("q\"uote", "has_genre", "e1", "Item", "Entity"),
        ]
    )


def _script(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["bash", str(NEO4J_SCRIPT), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def bulk_server(tmp_path_factory):
    """``(uri, home, env, report)``: a server started on a home filled by :func:`bulk_import`
    with :func:`tricky_graph`."""
    home = tmp_path_factory.mktemp("bulk-home")
    state = tmp_path_factory.mktemp("bulk-state")
    env = {"KGREC_NEO4J_STATE": str(state), "KGREC_NEO4J_DATA": str(home)}
    source = MemoryGraphStore()
    tricky_graph(source)
    report = bulk_import(source, home, admin=ADMIN, options=["--threads=2"])
    uri = _script("start", env=env).strip().splitlines()[-1].split("=", 1)[1]
    try:
        yield uri, home, env, report
    finally:
        _script("stop", env=env)


def _contents(store: Neo4jGraphStore) -> tuple[list, list]:
    """Every node (labels, properties) and relationship (type, ends, properties) of the
    database, with each value's Python type: ``4`` and ``4.0`` differ."""

    def typed(props: dict) -> list:
        return sorted((k, type(v).__name__, repr(v)) for k, v in props.items())

    nodes = store.driver.execute_query(
        f"MATCH (n:{KGREC}) RETURN labels(n) AS labels, properties(n) AS p",
        database_=store.database,
    )[0]
    rels = store.driver.execute_query(
        f"MATCH (a:{KGREC})-[r]->(b:{KGREC}) RETURN type(r) AS type, labels(a) AS a, "
        "a.id AS aid, labels(b) AS b, b.id AS bid, properties(r) AS p",
        database_=store.database,
    )[0]
    return (
        sorted(repr((r["labels"], typed(r["p"]))) for r in nodes),
        sorted(repr((r["type"], r["a"], r["aid"], r["b"], r["bid"], typed(r["p"]))) for r in rels),
    )


def _schema(store: Neo4jGraphStore) -> list:
    """The namespace's constraints' indexes: vector indexes are left out (a bulk import carries
    no embeddings, and other tests leave theirs on the shared server)."""
    records = store.driver.execute_query(
        "SHOW INDEXES YIELD name, type, labelsOrTypes, properties, state "
        "WHERE name STARTS WITH 'Kgrec_' AND type <> 'VECTOR' RETURN *",
        database_=store.database,
    )[0]
    return sorted(repr(sorted(r.data().items())) for r in records)


@pytest.mark.neo4j
def test_bulk_import_equals_transactional_load(bulk_server, neo4j_store):
    uri, _, _, report = bulk_server
    tricky_graph(neo4j_store)
    memory = MemoryGraphStore()
    tricky_graph(memory)
    assert report.relationships == sum(memory.stats().relationships.values())
    with Neo4jGraphStore.connect(uri) as bulk:
        await_schema(bulk)
        assert _contents(bulk) == _contents(neo4j_store)
        assert _schema(bulk) == _schema(neo4j_store)
        assert bulk.stats() == neo4j_store.stats()
        snap = neo4j_store.snapshot()
        assert bulk.snapshot().equals(snap)
        for label in NodeLabel:
            ids = snap.node_ids[label.key]
            assert bulk.get_nodes(label, ids) == neo4j_store.get_nodes(label, ids)
        items = snap.node_ids["item"]
        for user in snap.node_ids["user"]:
            splits = ["train", "valid", "test"]
            want = neo4j_store.paths(user, items, splits=splits, attributes=["has_occupation"])
            assert bulk.paths(user, items, splits=splits, attributes=["has_occupation"]) == want


@pytest.mark.neo4j
def test_refuses_a_running_server_then_an_existing_database(bulk_server, tmp_path):
    _, home, env, _ = bulk_server
    source = MemoryGraphStore()
    random_graph(source, seed=1)
    with pytest.raises(KgrecError, match="Neo4j is running on"):
        bulk_import(source, home, admin=ADMIN)
    _script("stop", "--keep-data", env=env)
    before = {p.name: p.stat().st_mtime_ns for p in database_dir(home).iterdir()}
    with pytest.raises(KgrecError, match="database 'neo4j' already exists"):
        bulk_import(source, home, admin=ADMIN)
    assert {p.name: p.stat().st_mtime_ns for p in database_dir(home).iterdir()} == before

    # With the flag the database is replaced, by exactly the new graph.
    bulk_import(source, home, admin=ADMIN, overwrite=True, options=["--threads=2"])
    uri = _script("start", env=env).strip().splitlines()[-1].split("=", 1)[1]
    with Neo4jGraphStore.connect(uri) as bulk:
        assert bulk.stats() == source.stats()
        assert bulk.snapshot().equals(source.snapshot())


def test_importer_failures_are_kgrec_errors(tmp_path):
    source = MemoryGraphStore()
    random_graph(source, seed=0)
    with pytest.raises(KgrecError, match="cannot run neo4j-admin as 'no-such-neo4j-admin'"):
        bulk_import(source, tmp_path, admin=("no-such-neo4j-admin",))
    failing = ("bash", "-c", "echo 'Database is broken' >&2; exit 3", "admin")
    with pytest.raises(KgrecError, match=r"(?s)exit 3.*Database is broken"):
        bulk_import(source, tmp_path, admin=failing)
    with pytest.raises(InvalidValueError, match="invalid database name"):
        bulk_import(source, tmp_path, admin=failing, database="bad name")


@pytest.mark.parametrize(
    ("options", "budget"),
    [((), "--max-off-heap-memory=1G"), (["--max-off-heap-memory=3G"], "--max-off-heap-memory=3G")],
)
def test_the_importer_gets_an_off_heap_budget_unless_one_is_given(tmp_path, options, budget):
    source = MemoryGraphStore()
    random_graph(source, seed=0)
    argv = tmp_path / "argv"
    recorder = (sys.executable, "-c", RECORD_ARGV, str(argv))
    bulk_import(source, tmp_path / "home", admin=recorder, options=options)
    given = argv.read_text().splitlines()
    assert given[:3] == ["database", "import", "full"] and given[-1] == "neo4j"
    assert [a for a in given if a.startswith("--max-off-heap-memory")] == [budget]


def test_values_without_a_csv_form_are_refused(tmp_path):
    for value in ([], ["a", ""]):
        with pytest.raises(InvalidValueError, match="cannot write an empty list"):
            write_import_files(
                {NodeLabel.ITEM: [NodeRecord("i", properties={"tags": value})]}, [], [], tmp_path
            )
    with pytest.raises(InvalidValueError, match="contains ',' or '='"):
        write_import_files({}, [], [], tmp_path / "a,b")


def test_files_split_rows_whose_values_differ_in_type(tmp_path):
    store = MemoryGraphStore()
    tricky_graph(store)
    files = write_import_files(*store.records(), tmp_path)
    headers = {name: (tmp_path / name).read_text().splitlines()[0] for _, name in files.nodes}
    item_headers = [h for name, h in headers.items() if "KgrecItem" in name]
    # year is long, double and string on three items: a file for each (and one for the items
    # without a year), one type per column
    assert len(item_headers) == 4
    assert {h.split(",")[3] for h in item_headers} == {"year:double", "year:long", "year:string"}
    assert files.multiline  # a text holds a newline
    assert files.array_delimiter == "\x1f"  # ';' and '|' occur in a string list
    assert files.relationship_count == sum(store.stats().relationships.values())
    # interactions: a file per (rating, weight, timestamp) types; None leaves a column out
    interaction_headers = sorted(
        (tmp_path / name).read_text().splitlines()[0].split(",")[2:]
        for rel, name in files.relationships
        if rel == "INTERACTED"
    )
    assert ["rating:long", "weight:long", "timestamp:long", "split:string"] in interaction_headers
    assert ["weight:double", "split:string"] in interaction_headers
    assert ["weight:double", "kind:string", "source:string", "split:string"] in interaction_headers


def test_numpy_floats_are_written_as_plain_floats(tmp_path):
    store = MemoryGraphStore()
    store.upsert_nodes("User", [NodeRecord("u")])
    store.upsert_nodes("Item", [NodeRecord("i", properties={"score": np.float64(0.1)})])
    store.upsert_interactions([Interaction("u", "i", rating=np.float64(4.5), timestamp=1)])
    files = write_import_files(*store.records(), tmp_path)
    text = "".join((tmp_path / name).read_text() for _, name in files.nodes + files.relationships)
    assert "rating:double" in text and "score:double" in text
    assert "np." not in text and "0.1" in text and "4.5" in text
