"""Checks of public arguments, shared so that every API words the same mistake the same way.
Each returns the value when it is fine and raises :class:`~kgrec.errors.InvalidValueError`
naming the argument otherwise."""

from __future__ import annotations

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
