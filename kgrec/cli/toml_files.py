"""The TOML files commands read (``kgrec train --config``, ``kgrec load csv --spec``): parsed
with :mod:`tomllib`, every key checked against what it configures, so a misspelt key is an
error naming it instead of a silently ignored setting."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any, Collection, Mapping

from kgrec.errors import DataFileNotFoundError, DataFormatError, shown


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML document in ``path``; :class:`DataFormatError` naming the file for a syntax
    error, :class:`DataFileNotFoundError` when it does not exist."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise DataFileNotFoundError(path) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataFormatError(path, f"invalid TOML: {exc}") from None


def check_keys(path: Path, where: str, table: object, allowed: Collection[str]) -> Mapping[str, Any]:
    """``table`` if it is a TOML table whose keys are all in ``allowed``; otherwise a
    :class:`DataFormatError` naming the file, the table (``where``) and the first bad key."""
    if not isinstance(table, dict):
        raise DataFormatError(path, f"{where} must be a table, got {shown(table)}")
    unknown = sorted(table.keys() - set(allowed))
    if unknown:
        prefix = f"{where}." if where else ""
        raise DataFormatError(
            path, f"unknown key {shown(prefix + unknown[0])}: expected one of {sorted(allowed)}"
        )
    return table


def field_names(cls: type) -> list[str]:
    """The fields of dataclass ``cls``, in order."""
    return [f.name for f in dataclasses.fields(cls)]
