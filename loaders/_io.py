"""Reading delimited text files row by row, with errors that name file, line and problem.

Every loader reads its files through :func:`read_rows`, so undecodable bytes, a wrong number of
fields, a bad number or an invalid relation name are reported the same way: as a
:class:`~kgrec.errors.DataFormatError` raised while parsing, before anything is written.
"""

from __future__ import annotations

import csv
import logging
import math
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from kgrec.errors import DataFileNotFoundError, DataFormatError, InvalidNameError, shown
from kgrec.graph.schema import validate_property_key, validate_relation

log = logging.getLogger(__name__)

#: The largest id a numeric-id file may hold (18 digits: it fits a signed 64-bit integer).
MAX_ID = 10**18 - 1

_INT64 = (-(2**63), 2**63 - 1)

#: The warnings of the load running in this context, or None outside :func:`collecting_warnings`.
_warnings: ContextVar[list[str] | None] = ContextVar("kgrec_load_warnings", default=None)


@contextmanager
def collecting_warnings() -> Iterator[list[str]]:
    """Collect the warnings :func:`warn` gives inside the ``with`` block (each once)."""
    found: list[str] = []
    token = _warnings.set(found)
    try:
        yield found
    finally:
        _warnings.reset(token)


def warn(path: Path, line: int | None, problem: str) -> None:
    """Log a WARNING naming file and line, and add it to the collected warnings (if any)."""
    message = f"{path}:{line}: {problem}" if line is not None else f"{path}: {problem}"
    found = _warnings.get()
    if found is None or message not in found:
        log.warning("%s", message)
    if found is not None and message not in found:
        found.append(message)


def _name_error(exc: InvalidNameError, name: str) -> str:
    """The message of ``exc`` with ``name`` quoted by :func:`shown` (never a whole huge value)."""
    return str(exc).replace(repr(name), shown(name))


def checked_relation(name: str, path: Path, line: int | None) -> str:
    """``name`` if it is a valid relation name, else a :class:`DataFormatError` at ``line``."""
    try:
        return validate_relation(name)
    except InvalidNameError as exc:
        raise DataFormatError(path, _name_error(exc, name), line) from None


def checked_property_key(name: str, path: Path, line: int | None, hint: str = "") -> str:
    """``name`` if it is a valid node property key, else a :class:`DataFormatError` at ``line``."""
    try:
        return validate_property_key(name)
    except InvalidNameError as exc:
        raise DataFormatError(path, _name_error(exc, name) + hint, line) from None


def require_file(path: str | Path) -> Path:
    """``path`` if it is an existing file, else :class:`DataFileNotFoundError`."""
    path = Path(path)
    if path.is_dir():
        raise DataFormatError(path, "a folder, not a file")
    if not path.is_file():
        raise DataFileNotFoundError(path)
    return path


def require_dir(path: str | Path) -> Path:
    """``path`` if it is an existing folder, else :class:`DataFileNotFoundError`."""
    path = Path(path)
    if not path.is_dir():
        raise DataFileNotFoundError(path, "data folder")
    return path


def first_file(*candidates: Path) -> Path:
    """The first of ``candidates`` that exists, else :class:`DataFileNotFoundError` naming the
    first one."""
    for path in candidates:
        if path.is_file():
            return path
    raise DataFileNotFoundError(" or ".join(str(p) for p in candidates))


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

    def integer(
        self, index: int, what: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        """Field ``index`` as an ASCII-digit integer that fits a signed 64-bit integer and lies
        in ``[minimum, maximum]``; its digits are counted before it is converted, so a huge
        value is refused at once."""
        value = self.fields[index].strip()
        digits = value[1:] if value.startswith("-") else value
        if not (digits.isascii() and digits.isdigit()):
            raise self.error(f"{what} must be an integer, found {shown(value)}")
        low = _INT64[0] if minimum is None else max(minimum, _INT64[0])
        high = _INT64[1] if maximum is None else min(maximum, _INT64[1])
        if len(digits.lstrip("0")) > len(str(max(abs(low), abs(high)))):
            raise self.error(f"{what} must be between {low} and {high}, found {shown(value)}")
        number = int(value)
        if number < low:
            raise self.error(f"{what} must be at least {low}, found {number}")
        if number > high:
            raise self.error(f"{what} must be at most {high}, found {number}")
        return number

    def identifier(self, index: int, what: str) -> int:
        """Field ``index`` as a numeric id: an integer from 0 to :data:`MAX_ID`."""
        return self.integer(index, what, minimum=0, maximum=MAX_ID)

    def number(self, index: int, what: str) -> float:
        value = self.fields[index].strip()
        try:
            number = float(value)
        except ValueError:
            raise self.error(f"{what} must be a number, found {shown(value)}") from None
        if not math.isfinite(number):
            raise self.error(f"{what} must be finite, found {shown(value)}")
        return number

    def relation(self, name: str) -> str:
        return checked_relation(name, self.path, self.line)

    def property_key(self, name: str) -> str:
        """``name`` if it is a valid node property key, else this row's error."""
        return checked_property_key(name, self.path, self.line)

    def column(self, name: str) -> int:
        """The index of column ``name`` in this header row."""
        names = [f.strip() for f in self.fields]
        if name not in names:
            raise self.error(f"no column {shown(name)} in header {shown(names)}")
        return names.index(name)


def read_lines(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, str, bool]]:
    """``(line number, text with its line end, has a line end)`` for every line.

    A missing file is a :class:`DataFileNotFoundError`; undecodable bytes are a
    :class:`DataFormatError` at their line. A last line with no line end may be a truncated
    download: it is read, and :func:`warn` names it (a parse error on it says so too).
    """
    path = require_file(path)
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise DataFormatError(path, f"cannot read: {exc.strerror}") from None
    with f:
        for number, raw in enumerate(f, 1):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise DataFormatError(
                    path, f"not valid {encoding} text: {exc.reason} at byte {exc.start}", number
                ) from None
            complete = text.endswith("\n")
            if not complete and text.strip():
                warn(path, number, "the last line has no line end: is the file truncated?")
            yield number, text, complete


def read_rows(
    path: str | Path,
    delimiter: str | None = "\t",
    *,
    fields: int | None = None,
    encoding: str = "utf-8",
    quoted: bool = False,
    rsplit: int = -1,
) -> Iterator[Row]:
    """The non-blank lines of ``path`` split into fields.

    ``delimiter=None`` splits on runs of whitespace; ``rsplit`` splits at most that many times,
    from the right (the first field keeps the rest of the line); ``quoted`` reads CSV quoting (a
    quoted field may span lines; the row then carries its last line's number). ``fields``
    demands that many fields on every row. Raises :class:`DataFormatError` on undecodable
    bytes or a wrong count, :class:`DataFileNotFoundError` when ``path`` does not exist.
    """
    path = Path(path)
    lines = read_lines(path, encoding)
    if quoted:
        rows = _csv_rows(path, lines, delimiter or ",")
    else:
        rows = (
            Row(path, number, text.rstrip("\r\n").rsplit(delimiter, rsplit), complete)
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
        raise header.error(f"expected header {list(expected)}, found {shown(names)}")
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
    """Like :func:`find_optional`, but a missing file is a :class:`DataFileNotFoundError`."""
    found = find_optional(require_dir(data_dir), *names)
    if found is None:
        raise DataFileNotFoundError(
            Path(data_dir) / " or ".join(names), "file (looked here and one folder below)"
        )
    return found
