"""Exceptions raised by kgrec. Every error names the offending value, file or line."""

from __future__ import annotations

#: The longest rendering of a value that an error message quotes.
SHOWN_MAX = 80


def shown(value: object, limit: int = SHOWN_MAX) -> str:
    """``repr(value)`` cut to ``limit`` characters, saying how long it was: an error message
    names the bad value without echoing a 10 MB field."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(text):,} characters as repr"
    return f"{text[:limit]}... ({size})"


class KgrecError(Exception):
    """Base class of all kgrec errors."""


class InvalidNameError(KgrecError, ValueError):
    """A label, relationship type or property key breaks the schema's name rule."""


class UnknownIdError(KgrecError, KeyError):
    """A referenced user, item or entity id does not exist in the store."""

    def __init__(self, label: str, ids: list[str]) -> None:
        listed = ", ".join(shown(i) for i in ids[:10])
        more = f" (and {len(ids) - 10} more)" if len(ids) > 10 else ""
        super().__init__(f"unknown {label} id(s): {listed}{more}")
        self.label = label
        self.ids = ids

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class InvalidValueError(KgrecError, ValueError):
    """A value has the wrong type or is not finite (e.g. a NaN weight)."""


class DataFormatError(KgrecError, ValueError):
    """A source file is malformed. The message names the file and, where known, the line."""

    def __init__(self, path: object, problem: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


class StoreMismatchError(KgrecError):
    """A store does not hold the graph a model or checkpoint was built from."""


class StoreUnavailableError(KgrecError):
    """The graph store cannot be reached or refused the credentials (server down, timeout,
    authentication). The message names the store's address."""


class CheckpointError(KgrecError):
    """A checkpoint is missing, corrupt, edited or was saved for another graph. The message
    names the file and, where known, the field."""


class DataFileNotFoundError(DataFormatError, FileNotFoundError):
    """A source file or data folder does not exist. Every loader raises this one type for it
    (a :class:`DataFormatError` and a :class:`FileNotFoundError`), naming the path."""

    def __init__(self, path: object, what: str = "file") -> None:
        super().__init__(path, f"{what} not found")
        self.filename = str(path)

    def __str__(self) -> str:  # OSError would render "[Errno None] None: <filename>"
        return str(self.args[0])
