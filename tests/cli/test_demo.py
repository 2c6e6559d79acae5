"""The ``kgrec`` command: ``--version``, and a demo that checks its inputs before opening a store
and deletes nothing unless ``--replace`` says so (defect 1, CLI side; defect 2's ``--version``)."""

from __future__ import annotations

import importlib.metadata
import socket
import time
from pathlib import Path

import pytest

from kgrec import Neo4jGraphStore
from kgrec.cli import demo as demo_command
from kgrec.graph.schema import DEFAULT_NAMESPACE
from tests.cli.conftest import flat, invoke
from tests.loaders.conftest import ML_FILES, write_files


def closed_port_uri() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"bolt://127.0.0.1:{port}"  # nothing listens there any more


def demo_data(base: Path) -> Path:
    """The tests' small MovieLens files laid out as the demo expects; returns the data folder."""
    folders = {
        "ml/": "data/movielens-100k/",
        "kg/": "data/movielens-dbpedia-kg/",
        "split.tsv": "benchmarks/ml100k/split.tsv",
    }
    files = {}
    for name, content in ML_FILES.items():
        prefix = next(p for p in folders if name.startswith(p))
        files[folders[prefix] + name[len(prefix) :]] = content
    write_files(base, files)
    return base / "data"


def test_version_prints_the_installed_version():
    result = invoke("--version")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"kgrec {importlib.metadata.version('kgrec')}"


def test_demo_help_lists_the_store_and_safety_options():
    result = invoke("demo", "--help")
    assert result.exit_code == 0, result.output
    text = flat(result.stdout)
    for option in (
        "--data-dir",
        "KGREC_DATA",
        "--split-file",
        "--neo4j-uri",
        "--neo4j-database",
        "--namespace",
    ):
        assert option in text
    assert (
        "--replace <bool> delete every node of the kgrec namespace NS (--namespace) in database DB "
        "(--neo4j-database) before loading (other data is never touched)"
    ) in text


@pytest.mark.parametrize(
    "store", [["--store", "memory"], ["--store", "neo4j", "--neo4j-uri", closed_port_uri()]]
)
def test_demo_refuses_a_missing_data_folder_before_opening_the_store(tmp_path, store):
    """With Neo4j at a closed port, the error is about the data folder: nothing was connected."""
    started = time.perf_counter()
    result = invoke("demo", *store, "--data-dir", tmp_path / "nowhere", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert f"data folder {tmp_path / 'nowhere'} not found" in flat(result.output)
    assert "--data-dir or the KGREC_DATA environment variable" in flat(result.output)
    assert not (tmp_path / "out").exists()
    assert time.perf_counter() - started < 5


def test_demo_without_a_data_folder_outside_a_checkout_names_the_option(tmp_path, monkeypatch):
    monkeypatch.setattr(demo_command, "checkout_root", lambda: None)
    result = invoke("demo", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "no data folder: give it with --data-dir or the KGREC_DATA environment variable" in flat(
        result.output
    )


def test_a_checkout_finds_shared_data_beside_the_repository_and_writes_into_runs_demo():
    root = Path(__file__).resolve().parents[2]
    assert demo_command.checkout_data_dir() == root.parent / "shared" / "data"
    assert demo_command.demo_out_dir() == root / "runs" / "demo"


def test_demo_outside_a_checkout_needs_an_output_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(demo_command, "checkout_root", lambda: None)
    result = invoke("demo", "--data-dir", demo_data(tmp_path))
    assert result.exit_code == 2
    assert "no output folder: give it with --out" in flat(result.output)


@pytest.mark.parametrize(
    "missing, option",
    [
        ("data/movielens-100k/u.item", "--data-dir"),
        ("data/movielens-dbpedia-kg/derived/triples.tsv", "--data-dir"),
        ("benchmarks/ml100k/split.tsv", "--split-file"),
    ],
)
def test_demo_refuses_a_missing_input_file_before_connecting(tmp_path, missing, option):
    data = demo_data(tmp_path)
    (tmp_path / missing).unlink()
    result = invoke("demo", "--store", "neo4j", "--neo4j-uri", closed_port_uri(), "--data-dir", data)
    assert result.exit_code == 2
    text = flat(result.output)
    assert f"Invalid value for {option}" in text and Path(missing).name in text and "not found" in text


def test_replace_is_refused_on_the_embedded_store(tmp_path):
    result = invoke("demo", "--replace", "--data-dir", demo_data(tmp_path))
    assert result.exit_code == 2
    assert "--replace applies to --store neo4j only" in flat(result.output)


def test_a_kgrec_error_is_a_one_line_message_not_a_traceback(tmp_path):
    """An unknown --user is found after loading, before any training."""
    result = invoke("demo", "--data-dir", demo_data(tmp_path), "--user", "nobody", "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "Error: unknown User id(s): 'nobody'" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.neo4j
def test_demo_on_neo4j_keeps_other_data_and_replace_deletes_only_its_namespace(
    neo4j_server, neo4j_driver, tmp_path
):
    """Foreign nodes with kgrec's ids and a plain ``User`` label survive a demo run and a
    ``--replace`` run; without ``--replace`` a namespace node the data lacks stays."""
    uri, _ = neo4j_server
    user_label = f"{DEFAULT_NAMESPACE}User"
    data = demo_data(tmp_path)

    def count(query: str) -> int:
        return neo4j_driver.execute_query(query).records[0][0]

    def demo(*extra: str) -> None:
        result = invoke(
            "demo", "--store", "neo4j", "--neo4j-uri", uri, "--data-dir", data, "--user", "nobody", *extra
        )
        assert result.exit_code == 1 and "unknown User id(s): 'nobody'" in result.output, result.output

    foreign = "MATCH (:Customer {id: '1', cli_test: true})-[r:KNOWS]->(:User {id: '1', cli_test: true}) RETURN count(r)"
    neo4j_driver.execute_query(
        "CREATE (:Customer {id: '1', cli_test: true})-[:KNOWS]->(:User {id: '1', cli_test: true})"
    )
    try:
        demo()
        assert count(f"MATCH (n:{user_label}) RETURN count(n)") == 3
        neo4j_driver.execute_query(f"CREATE (:{user_label} {{id: 'stale'}})")
        demo()  # loads upsert and clear nothing: the node the data does not hold stays
        assert count(f"MATCH (n:{user_label}) RETURN count(n)") == 4
        demo("--replace")
        assert count(f"MATCH (n:{user_label}) RETURN count(n)") == 3
        assert count(foreign) == 1
        assert count("MATCH (n) WHERE n.cli_test RETURN count(n)") == 2
    finally:
        neo4j_driver.execute_query("MATCH (n {cli_test: true}) DETACH DELETE n")
        Neo4jGraphStore(neo4j_driver).clear()
