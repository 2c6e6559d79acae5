"""Every loader: a missing file or folder raises one exception type, a last line with no line
end is loaded with a warning, and errors never echo a whole huge field (issue #9, defect 10)."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pytest

from kgrec import DataFormatError
from kgrec.errors import DataFileNotFoundError
from kgrec.loaders import (
    InteractionsCsv,
    NodesCsv,
    TriplesCsv,
    load_csv,
    load_kgat,
    load_kgcn,
    load_movielens100k,
    load_rdf,
)


def _movielens(store, ml):
    return load_movielens100k(store, ml.data_dir, kg_dir=ml.kg_dir, split_file=ml.split_file)


def _csv(store, base: Path):
    return load_csv(
        store,
        nodes=[NodesCsv(base / "people.tsv", "entity", name="name")],
        interactions=InteractionsCsv(base / "ratings.csv", user="userId", item="movieId"),
        triples=TriplesCsv(base / "kg.tsv", head="h", relation="r", tail="t", shared_ids=True),
    )


#: loader name -> (fixture, load(store, files), files -> the file to remove or truncate)
LOADERS = {
    "kgat": ("kgat_dir", load_kgat, lambda d: d / "train.txt"),
    "kgcn": ("kgcn_dir", load_kgcn, lambda d: d / "preprocessed" / "kg_final.txt"),
    "csv": ("csv_tables", _csv, lambda d: d / "kg.tsv"),
    "rdf": ("nt_file", load_rdf, lambda f: f),
    "movielens": ("movielens", _movielens, lambda ml: ml.data_dir / "u.user"),
}


@pytest.mark.parametrize("loader", LOADERS)
def test_a_missing_file_raises_one_type(store, request, expect_rejected, loader):
    fixture, load, target = LOADERS[loader]
    files = request.getfixturevalue(fixture)
    path = target(files)
    path.unlink()
    error = expect_rejected(store, lambda: load(store, files), path=path.name, problem="not found")
    assert isinstance(error, DataFileNotFoundError) and isinstance(error, FileNotFoundError)
    assert str(path) in str(error)


@pytest.mark.parametrize(
    ("loader", "load"),
    [
        ("kgat", load_kgat),
        ("kgcn", load_kgcn),
        ("movielens", load_movielens100k),
        ("movielens kg_dir", lambda store, d: load_movielens100k(store, d.parent, kg_dir=d)),
    ],
)
def test_a_missing_data_folder_is_refused_before_any_write(
    memory_store, tmp_path, expect_rejected, loader, load
):
    folder = tmp_path / "no-such-folder"
    error = expect_rejected(memory_store, lambda: load(memory_store, folder), problem="not found")
    assert isinstance(error, FileNotFoundError)


def test_kgcn_names_every_place_it_looked(memory_store, kgcn_dir):
    shutil.rmtree(kgcn_dir / "raw")
    with pytest.raises(DataFileNotFoundError, match=r"raw/item_index2entity_id_rehashed\.txt"):
        load_kgcn(memory_store, kgcn_dir)


@pytest.mark.parametrize("loader", LOADERS)
def test_a_last_line_with_no_line_end_is_loaded_with_a_warning(
    store, request, caplog, loader
):
    fixture, load, target = LOADERS[loader]
    files = request.getfixturevalue(fixture)
    path = target(files)
    data = path.read_bytes().rstrip(b"\r\n")
    path.write_bytes(data)
    lines = data.count(b"\n") + 1
    with caplog.at_level(logging.WARNING, logger="kgrec.loaders"):
        report = load(store, files)
    expected = f"{path}:{lines}: the last line has no line end: is the file truncated?"
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [expected]
    if loader != "movielens":  # load_movielens100k is not decorated with reports_warnings yet
        assert report.warnings == (expected,)


def test_complete_files_give_no_warning(memory_store, kgat_dir, caplog):
    with caplog.at_level(logging.WARNING, logger="kgrec.loaders"):
        assert load_kgat(memory_store, kgat_dir).warnings == ()
    assert not caplog.records


BIG = "x" * 100_000  # Python's csv module refuses fields over 131,072 characters itself


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("ratings.csv", f"userId,movieId\nu1,{BIG}\n"),  # unknown item id
        ("ratings.csv", f"userId,movieId,fold\nu1,10,{BIG}\n"),  # bad split
        ("kg.tsv", f"h\tr\tt\n10\t{BIG}\tp1\n"),  # invalid relation name
        ("kg.tsv", f"{BIG}\n"),  # no such column in the header
    ],
)
def test_errors_do_not_echo_a_huge_field(memory_store, csv_tables, name, text):
    (csv_tables / name).write_text(text)
    with pytest.raises(DataFormatError) as caught:
        load_csv(
            memory_store,
            nodes=[NodesCsv(csv_tables / "movies.csv", "item", id="movieId")],
            interactions=InteractionsCsv(
                csv_tables / "ratings.csv",
                user="userId",
                item="movieId",
                split="fold" if "fold" in text else None,
            ),
            triples=TriplesCsv(
                csv_tables / "kg.tsv",
                head="h",
                relation="r",
                tail="t",
                head_label="item",
                relation_map=lambda source: source,
            ),
        )
    assert len(str(caught.value)) < 600
    assert re.search(r"\(100,0\d\d characters", str(caught.value))


def test_whitespace_files_do_not_echo_a_huge_field(memory_store, kgat_dir):
    (kgat_dir / "train.txt").write_text("0 " + "x" * 10_000_000 + "\n")
    with pytest.raises(DataFormatError) as caught:
        load_kgat(memory_store, kgat_dir)
    assert len(str(caught.value)) < 600
    assert "10,000,000 characters" in str(caught.value)
