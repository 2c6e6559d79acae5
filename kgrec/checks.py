"""Checks of public arguments, shared so that every API words the same mistake the same way.
Each returns the value when it is fine and raises :class:`~kgrec.errors.InvalidValueError`
naming the argument otherwise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kgrec.errors import InvalidValueError, shown


def int_in_range(value: object, what: str, low: int = 1, high: int | None = None) -> int:
    """``value`` if it is an ``int`` (not a ``bool``) from ``low`` to ``high`` (no bound when
    ``None``)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (
        high is not None and value > high
    ):
        if high is not None:
            kind = f"an int from {low:,} to {high:,}"
        else:
            kind = "a positive int" if low == 1 else f"an int >= {low:,}"
        raise InvalidValueError(f"{what} must be {kind}, got {shown(value)}")
    return value


def flag(value: object, what: str) -> bool:
    """``value`` if it is ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise InvalidValueError(f"{what} must be True or False, got {shown(value)}")
    return value


def instance(value: object, kind: type, what: str, optional: bool = False) -> object:
    """``value`` if it is a ``kind`` (or ``None`` when ``optional``)."""
    if not isinstance(value, kind) and not (optional and value is None):
        raise InvalidValueError(f"{what} must be a {kind.__name__}, got {type(value).__name__}")
    return value


def id_strings(values: object, what: str) -> list[str]:
    """``values`` as a list if it is a sequence of id strings (not one string)."""
    if (
        isinstance(values, (str, bytes, Mapping))
        or not isinstance(values, Sequence)
        or not all(isinstance(v, str) for v in values)
    ):
        raise InvalidValueError(f"{what} must be a sequence of id strings, got {shown(values)}")
    return list(values)
