"""The shared row reader: every loader's file errors name the file, the line and the problem."""

from __future__ import annotations

import pytest

from kgrec import DataFormatError
from kgrec.errors import DataFileNotFoundError
from kgrec.loaders._io import find_file, local_name, read_rows, split_header


def test_rows_skip_blank_lines_and_keep_line_numbers(tmp_path):
    path = tmp_path / "a.tsv"
    path.write_text("a\tb\n\nc\td\r\n")
    rows = list(read_rows(path, fields=2))
    assert [(r.line, r.fields) for r in rows] == [(1, ["a", "b"]), (3, ["c", "d"])]


def test_whitespace_delimiter(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("1  2\t3\n")
    assert next(read_rows(path, None)).fields == ["1", "2", "3"]


def test_undecodable_bytes_name_their_line(tmp_path):
    path = tmp_path / "a.tsv"
    path.write_bytes(b"ok\tfine\nbad\t\xe9t\xe9\n")
    with pytest.raises(DataFormatError, match=r"a\.tsv:2: not valid utf-8 text"):
        list(read_rows(path))


def test_wrong_field_count(tmp_path):
    path = tmp_path / "a.tsv"
    path.write_text("1\t2\t3\n4\t5\n")
    with pytest.raises(DataFormatError) as caught:
        list(read_rows(path, fields=3))
    assert (caught.value.line, caught.value.problem) == (2, "expected 3 fields, found 2")


def test_a_truncated_last_line_says_so(tmp_path):
    path = tmp_path / "a.tsv"
    path.write_text("1\t2\t3\n4\t5")
    with pytest.raises(DataFormatError, match="truncated"):
        list(read_rows(path, fields=3))


@pytest.mark.parametrize(
    ("value", "method", "problem"),
    [
        ("x1", "integer", "count must be an integer, found 'x1'"),
        ("1_000", "integer", "count must be an integer"),
        ("-3", "integer", "count must be at least 0, found -3"),
        ("nan", "number", "count must be finite"),
        ("4,5", "number", "count must be a number"),
        ("", "text", "empty count"),
    ],
)
def test_value_errors(tmp_path, value, method, problem):
    path = tmp_path / "a.tsv"
    path.write_text(f"x\t{value}\n")
    row = next(read_rows(path))
    kwargs = {"minimum": 0} if method == "integer" else {}
    with pytest.raises(DataFormatError) as caught:
        getattr(row, method)(1, "count", **kwargs)
    assert problem in caught.value.problem and caught.value.line == 1


def test_quoted_csv_may_span_lines(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('id,text\n1,"two\nlines, and a comma"\n2,plain\n')
    header, rows = split_header(read_rows(path, ",", quoted=True), path)
    assert [(r.line, r.fields) for r in rows] == [
        (3, ["1", "two\nlines, and a comma"]),
        (4, ["2", "plain"]),
    ]


def test_header_checks(tmp_path):
    path = tmp_path / "a.tsv"
    path.write_text("user\titem\n1\t2\n")
    with pytest.raises(
        DataFormatError, match=r"a\.tsv:1: expected header \['user', 'item', 'rating'\]"
    ):
        split_header(read_rows(path), path, ("user", "item", "rating"))
    header, _ = split_header(read_rows(path), path)
    with pytest.raises(DataFormatError, match="no column 'rating'"):
        header.column("rating")
    (tmp_path / "empty.tsv").write_text("")
    with pytest.raises(DataFormatError, match="empty file"):
        split_header(read_rows(tmp_path / "empty.tsv"), tmp_path / "empty.tsv")


def test_find_file_looks_one_folder_down(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("")
    assert find_file(tmp_path, "a.txt", "b.txt") == tmp_path / "sub" / "b.txt"
    with pytest.raises(
        DataFileNotFoundError, match=r"c\.txt: file \(looked here and one folder below\) not found"
    ):
        find_file(tmp_path, "c.txt")


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("dbo:starring", "starring"),
        ("http://dbpedia.org/ontology/director", "director"),
        ("http://x.org/o#type", "type"),
    ],
)
def test_local_name(source, name):
    assert local_name(source) == name
