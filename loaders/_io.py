"""Reading delimited text files row by row, with errors that name file, line and problem.

Every loader reads its files through :func:`read_rows`, so undecodable bytes, a wrong number of
fields, a bad number or an invalid relation name are reported the same way: as a
:class:`~kgrec.errors.DataFormatError` raised while parsing, before anything is written.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from kgrec.errors import DataFormatError, InvalidNameError
from kgrec.graph.schema import validate_property_key, validate_relation


def checked_relation(name: str, path: Path, line: int | None) -> str:
    """``name`` if it is a valid relation name, else a :class:`DataFormatError` at ``line``."""
    try:
        return validate_relation(name)
    except InvalidNameError as exc:
        raise DataFormatError(path, str(exc), line) from None


def line_error(path: Path, line: int, problem: str, complete: bool = True) -> DataFormatError:
    """The error for ``problem`` at ``line``; ``complete=False``: a last line with no line end."""
    if not complete:
        problem += " (the last line has no line end: is the file truncated?)"
    return DataFormatError(path, problem, line)


def local_name(source: str) -> str:
    """The part of an IRI or CURIE after its last ``#``, ``/`` or ``:`` (``dbo:starring`` ->
    ``starring``)."""
    return re.split(r"[#/:]", source.rstrip("#/"))[-1]


@dataclass(frozen=True, slots=True)
class Row:
    """The fields of one line. ``complete`` is False for a last line with no line end."""

    path: Path
    line: int
    fields: list[str]
    complete: bool = True

    def error(self, problem: str) -> DataFormatError:
        return line_error(self.path, self.line, problem, self.complete)

    def expect(self, count: int) -> Row:
        if len(self.fields) != count:
            raise self.error(f"expected {count} fields, found {len(self.fields)}")
        return self

    def text(self, index: int, what: str) -> str:
        """Field ``index`` stripped; it must not be empty."""
        value = self.fields[index].strip()
        if not value:
            raise self.error(f"empty {what}")
        return value

    def integer(self, index: int, what: str, *, minimum: int | None = None) -> int:
        value = self.fields[index].strip()
        digits = value[1:] if value.startswith("-") else value
        if not (digits.isascii() and digits.isdigit()):
            raise self.error(f"{what} must be an integer, found {value!r}")
        number = int(value)
        if minimum is not None and number < minimum:
            raise self.error(f"{what} must be at least {minimum}, found {number}")
        return number

    def number(self, index: int, what: str) -> float:
        value = self.fields[index].strip()
        try:
            number = float(value)
        except ValueError:
            raise self.error(f"{what} must be a number, found {value!r}") from None
        if not math.isfinite(number):
            raise self.error(f"{what} must be finite, found {value!r}")
        return number

    def relation(self, name: str) -> str:
        return checked_relation(name, self.path, self.line)

    def property_key(self, name: str) -> str:
        """``name`` if it is a valid node property key, else this row's error."""
        try:
            return validate_property_key(name)
        except InvalidNameError as exc:
            raise self.error(str(exc)) from None

    def column(self, name: str) -> int:
        """The index of column ``name`` in this header row."""
        names = [f.strip() for f in self.fields]
        if name not in names:
            raise self.error(f"no column {name!r} in header {names}")
        return names.index(name)


def read_lines(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, str, bool]]:
    """``(line number, text with its line end, has a line end)`` for every line; undecodable
    bytes are a :class:`DataFormatError` at their line."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise DataFormatError(
                    path, f"not valid {encoding} text: {exc.reason} at byte {exc.start}", number
                ) from None
            yield number, text, text.endswith("\n")


def read_rows(
    path: str | Path,
    delimiter: str | None = "\t",
    *,
    fields: int | None = None,
    encoding: str = "utf-8",
    quoted: bool = False,
) -> Iterator[Row]:
    """The non-blank lines of ``path`` split into fields.

    ``delimiter=None`` splits on runs of whitespace; ``quoted`` reads CSV quoting (a quoted field
    may span lines; the row then carries its last line's number). ``fields`` demands that many
    fields on every row. Raises :class:`DataFormatError` on undecodable bytes or a wrong count.
    """
    path = Path(path)
    lines = read_lines(path, encoding)
    if quoted:
        rows = _csv_rows(path, lines, delimiter or ",")
    else:
        rows = (
            Row(path, number, text.rstrip("\r\n").split(delimiter), complete)
            for number, text, complete in lines
            if text.strip()
        )
    for row in rows:
        yield row if fields is None else row.expect(fields)


def _csv_rows(path: Path, lines: Iterator[tuple[int, str, bool]], delimiter: str) -> Iterator[Row]:
    where = {"line": 0, "complete": True}

    def texts() -> Iterator[str]:
        for number, text, complete in lines:
            where.update(line=number, complete=complete)
            yield text

    reader = csv.reader(texts(), delimiter=delimiter, strict=True)
    try:
        for fields in reader:
            if any(f.strip() for f in fields):
                yield Row(path, where["line"], fields, where["complete"])
    except csv.Error as exc:
        raise DataFormatError(path, f"bad CSV: {exc}", where["line"]) from None


def split_header(
    rows: Iterator[Row], path: str | Path, expected: Sequence[str] | None = None
) -> tuple[Row, Iterator[Row]]:
    """The first row as a header (checked against ``expected`` when given) and the rest, each
    checked to have as many fields as the header."""
    header = next(rows, None)
    if header is None:
        raise DataFormatError(path, "empty file: expected a header line", 1)
    names = [f.strip() for f in header.fields]
    if expected is not None and names != list(expected):
        raise header.error(f"expected header {list(expected)}, found {names}")
    return header, (row.expect(len(header.fields)) for row in rows)


def find_optional(data_dir: str | Path, *names: str) -> Path | None:
    """The first of ``names`` found in ``data_dir`` or one folder below it, or None."""
    data_dir = Path(data_dir)
    for name in names:
        found = sorted(data_dir.glob(name)) + sorted(data_dir.glob(f"*/{name}"))
        if found:
            return found[0]
    return None


def find_file(data_dir: str | Path, *names: str) -> Path:
    """Like :func:`find_optional`, but a missing file is a :class:`DataFormatError`."""
    found = find_optional(data_dir, *names)
    if found is None:
        raise DataFormatError(data_dir, f"none of {list(names)} found in this folder or one below")
    return found
