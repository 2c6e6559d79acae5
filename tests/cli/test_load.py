"""``kgrec load FORMAT``: each loader from the command line gives the graph its Python function
gives, into the embedded store's folder (or Neo4j); a re-run changes nothing; bad options and
bad files are one-line errors."""

from __future__ import annotations


from typing import Callable

import pytest

from kgrec import MemoryGraphStore, Neo4jGraphStore
from kgrec.graph.memory_file import JOURNAL_FILE
from kgrec.loaders import load_kgat, load_kgcn, load_movielens100k, load_rdf
from tests.cli.conftest import flat, invoke
from tests.loaders.conftest import (  # noqa: F401 - fixtures
    csv_tables, kgat_dir, kgcn_dir, load_csv_tables, movielens, nt_file,
)

CSV_SPEC = """\
[[nodes]]
path = "movies.csv"
label = "item"
id = "movieId"
name = "title"
text = ["title", "genres"]
properties = ["year"]

[[nodes]]
path = "people.tsv"
label = "entity"
name = "name"
text = "name"

[interactions]
path = "ratings.csv"
user = "userId"
item = "movieId"
rating = "rating"
timestamp = "ts"
split = "fold"

[triples]
path = "kg.tsv"
head = "h"
relation = "r"
tail = "t"
shared_ids = true
relation_map = { "directed by" = "director", "knows" = "" }
"""


def cases(request) -> tuple[list, Callable]:
    """``(command line after 'load', the same load in Python)`` for each format."""
    name = request.param
    if name == "ml100k":
        ml = request.getfixturevalue("movielens")
        return (
            [
                "ml100k",
                ml.data_dir,
                "--kg-dir",
                ml.kg_dir,
                "--split-file",
                ml.split_file,
                "--no-user-attributes",
            ],
            lambda s: load_movielens100k(
                s, ml.data_dir, kg_dir=ml.kg_dir, split_file=ml.split_file, user_attributes=False
            ),
        )
    if name == "kgat":
        folder = request.getfixturevalue("kgat_dir")
        return (
            ["kgat", folder, "--relation", "0=genre", "--relation", "1="],
            lambda s: load_kgat(s, folder, relation_map={"0": "genre", "1": None}),
        )
    if name == "kgcn":
        folder = request.getfixturevalue("kgcn_dir")
        return ["kgcn", folder], lambda s: load_kgcn(s, folder)
    if name == "rdf":
        path = request.getfixturevalue("nt_file")
        return (
            ["rdf", path, "--item-prefix", "http://ex.org/film/"],
            lambda s: load_rdf(s, path, item_ids=lambda iri: iri.startswith("http://ex.org/film/")),
        )
    tables = request.getfixturevalue("csv_tables")
    (tables / "spec.toml").write_text(CSV_SPEC)
    load_tables = request.getfixturevalue("load_csv_tables")
    return ["csv", tables / "spec.toml"], lambda s: load_tables(
        s, relation_map={"directed by": "director", "knows": None}
    )


@pytest.fixture(params=["ml100k", "kgat", "kgcn", "rdf", "csv"])
def load_case(request):
    return cases(request)


def test_each_loader_gives_its_python_graph_and_a_rerun_changes_nothing(tmp_path, load_case):
    args, python_load = load_case
    folder = tmp_path / "store"
    result = invoke("load", *args, "--graph", folder)
    assert result.exit_code == 0, result.output
    expected = MemoryGraphStore()
    python_load(expected)
    assert MemoryGraphStore.open(folder).snapshot().equals(expected.snapshot())
    assert "nodes: " in result.output and "relationships: " in result.output
    size = (folder / JOURNAL_FILE).stat().st_size
    assert invoke("load", *args, "--graph", folder).exit_code == 0
    assert (folder / JOURNAL_FILE).stat().st_size == size


def test_the_store_folder_comes_from_the_environment_or_is_required(tmp_path, kgat_dir):
    result = invoke("load", "kgat", kgat_dir)
    assert result.exit_code == 2 and "--store memory needs --graph FOLDER (or KGREC_GRAPH)" in flat(
        result.output
    )
    result = invoke("load", "kgat", kgat_dir, env={"KGREC_GRAPH": str(tmp_path / "env-store")})
    assert result.exit_code == 0, result.output
    assert MemoryGraphStore.open(tmp_path / "env-store").stats().nodes["User"] == 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["--relation", "no-equals-sign"], "expected SOURCE=NAME, got 'no-equals-sign'"),
        (["--store", "neo4j"], "--store neo4j needs --neo4j-uri (or KGREC_NEO4J_URI)"),
    ],
)
def test_bad_options_are_usage_errors(tmp_path, kgat_dir, args, message):
    result = invoke(
        "load",
        "kgat",
        kgat_dir,
        "--graph",
        tmp_path / "g",
        *args,
        env={"KGREC_NEO4J_URI": None, "NEO4J_URI": None},
    )
    assert result.exit_code == 2 and message in flat(result.output)


def test_a_bad_file_is_a_one_line_error_and_the_store_is_unchanged(tmp_path, kgat_dir):
    (kgat_dir / "train.txt").write_text("0 0 x\n")
    result = invoke("load", "kgat", kgat_dir, "--graph", tmp_path / "g")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"Error: {kgat_dir / 'train.txt'}:1" in result.output
    assert MemoryGraphStore.open(tmp_path / "g").stats().nodes == {"User": 0, "Item": 0, "Entity": 0}


@pytest.mark.parametrize(
    "spec, problem",
    [
        ("[[nodes]]\npath = 'movies.csv'\nlabel = 'item'\nidd = 'movieId'\n", "unknown key 'nodes[0].idd'"),
        ("[extra]\n", "unknown key 'extra'"),
        ("[interactions]\nuser = 'userId'\n", "interactions.path must be a file name"),
        ("[triples\n", "invalid TOML"),
    ],
)
def test_a_csv_spec_with_a_bad_key_names_the_file_and_the_key(tmp_path, csv_tables, spec, problem):
    path = csv_tables / "spec.toml"
    path.write_text(spec)
    result = invoke("load", "csv", path, "--graph", tmp_path / "g")
    assert result.exit_code == 1 and f"Error: {path}: " in result.output and problem in flat(result.output)


def test_every_load_command_has_examples_in_its_help():
    for name in ("ml100k", "kgat", "kgcn", "rdf", "csv"):
        result = invoke("load", name, "--help")
        assert result.exit_code == 0 and f"kgrec load {name} " in flat(result.output)


@pytest.mark.neo4j
def test_load_into_neo4j_gives_the_embedded_graph(neo4j_server, neo4j_store, movielens, tmp_path):
    uri, _ = neo4j_server
    args = ["ml100k", movielens.data_dir, "--kg-dir", movielens.kg_dir, "--split-file", movielens.split_file]
    result = invoke("load", *args, "--store", "neo4j", "--neo4j-uri", uri)
    assert result.exit_code == 0, result.output
    assert invoke("load", *args, "--graph", tmp_path / "g").exit_code == 0
    assert isinstance(neo4j_store, Neo4jGraphStore)
    assert neo4j_store.snapshot().equals(MemoryGraphStore.open(tmp_path / "g").snapshot())
