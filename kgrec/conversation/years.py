"""Release years in a request: "90s", "the 1990s", "nineties", "early 80s", "1995", "before
1980", "after 2000", "since 1995", "between 1990 and 1995", "from 1990 to 1995".

A :class:`YearSpan` is either a period the person asked for ("90s", "in 1995": periods unite,
"80s or 90s" is 1980-1999) or a bound ("before 1980": bounds narrow what the periods allow).
Two-digit decades are of the 1900s, except "00s" and "10s".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from kgrec.conversation.words import YEAR

_DECADE_WORDS = {
    "twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950, "sixties": 1960,
    "seventies": 1970, "eighties": 1980, "nineties": 1990, "noughties": 2000,
}
#: Part of a decade: "early 80s" is 1980-1983.
_PARTS = {"early": (0, 3), "mid": (3, 6), "middle": (3, 6), "late": (6, 9)}

_BEFORE = (("before",), ("pre",), ("earlier", "than"), ("older", "than"), ("prior", "to"))
_AFTER = (("after",), ("post",), ("later", "than"), ("newer", "than"))
_SINCE = (("since",), ("starting", "from"))
_UNTIL = (("until",), ("till",), ("up", "to"), ("through",), ("no", "later", "than"), ("by",))
_RANGE_OPEN = (("between",), ("from",))
_RANGE_JOIN = (("and",), ("to",), ("until",), ("till",), ("through",), ("thru",), ("-",))
_ONWARDS = (
    ("on",), ("onwards",), ("onward",), ("or", "later"), ("and", "later"), ("or", "newer"),
    ("and", "up"), ("+",),
)
_OR_EARLIER = (("or", "earlier"), ("or", "before"), ("and", "earlier"), ("or", "older"))
_PERIOD_OPEN = (("in",), ("from",), ("of",))

#: Words that ask for recent films; what "recent" means is the parser's ``recent_since``.
RECENT_WORDS = frozenset({"recent", "recently", "latest", "newest", "modern"})


@dataclass(frozen=True, slots=True)
class YearSpan:
    """Words ``[start, end)`` of a request asking for years ``first..last`` (``None``: open):
    a period when ``bound`` is False, else a bound."""

    start: int
    end: int
    first: int | None
    last: int | None
    bound: bool


def _decade(word: str) -> int | None:
    if word in _DECADE_WORDS:
        return _DECADE_WORDS[word]
    if word.endswith("s"):
        digits = word[:-1]
        if len(digits) == 4 and YEAR.fullmatch(digits) and digits.endswith("0"):
            return int(digits)
        if len(digits) == 2 and digits.isdigit() and digits.endswith("0"):
            return 2000 + int(digits) if digits in ("00", "10") else 1900 + int(digits)
    return None


class _Reader:
    """Matches year expressions in the folded tokens ``norms``; ``free[k]`` says whether token
    ``k`` may be used."""

    def __init__(self, norms: Sequence[str], free: Sequence[bool]) -> None:
        self.norms, self.free = norms, free

    def words(self, at: int, options: Iterable[tuple[str, ...]]) -> int | None:
        """The end of the first of ``options`` found at ``at``, else ``None``."""
        for option in options:
            end = at + len(option)
            if end <= len(self.norms) and all(self.free[at:end]) and tuple(self.norms[at:end]) == option:
                return end
        return None

    def period(self, at: int) -> tuple[int, int, int] | None:
        """``(first, last, end)`` of a year or decade at ``at``: "1995", "the 90s", "'90s",
        "the early eighties"."""
        k = self.words(at, (("the",),)) or at
        part = None
        if k < len(self.norms) and self.free[k] and self.norms[k] in _PARTS:
            part = _PARTS[self.norms[k]]
            k = self.words(k + 1, (("the",),)) or k + 1
        k = self.words(k, (("'",), ("’",))) or k
        if k >= len(self.norms) or not self.free[k]:
            return None
        word = self.norms[k]
        if part is None and YEAR.fullmatch(word):
            return int(word), int(word), k + 1
        decade = _decade(word)
        if decade is None:
            return None
        low, high = part or (0, 9)
        return decade + low, decade + high, k + 1

    def span(self, at: int) -> YearSpan | None:
        """The longest year expression starting at ``at``."""
        for opener in (_RANGE_OPEN, ()):
            k = self.words(at, opener) if opener else at
            first = None if k is None else self.period(k)
            if first is None:
                continue
            join = self.words(first[2], _RANGE_JOIN)
            second = None if join is None else self.period(join)
            if second is not None:
                low, high = min(first[0], second[0]), max(first[1], second[1])
                return YearSpan(at, second[2], low, high, False)
        for openers, make in (
            (_BEFORE, lambda p: (None, p[0] - 1)),
            (_AFTER, lambda p: (p[1] + 1, None)),
            (_SINCE, lambda p: (p[0], None)),
            (_UNTIL, lambda p: (None, p[1])),
        ):
            k = self.words(at, openers)
            found = None if k is None else self.period(k)
            if found is not None:
                return YearSpan(at, found[2], *make(found), True)
        k = self.words(at, _PERIOD_OPEN) or at
        found = self.period(k)
        if found is None:
            return None
        first, last, end = found
        if (later := self.words(end, _ONWARDS)) is not None:
            return YearSpan(at, later, first, None, True)
        if (earlier := self.words(end, _OR_EARLIER)) is not None:
            return YearSpan(at, earlier, None, last, True)
        return YearSpan(at, end, first, last, False)


def find_years(norms: Sequence[str], free: Sequence[bool]) -> list[YearSpan]:
    """The year expressions among the free tokens ``norms``, left to right, longest first."""
    reader = _Reader(norms, free)
    found, k = [], 0
    while k < len(norms):
        span = reader.span(k) if free[k] else None
        if span is None:
            k += 1
        else:
            found.append(span)
            k = span.end
    return found


def combine(spans: Sequence[YearSpan]) -> tuple[int | None, int | None]:
    """The ``(first, last)`` years that ``spans`` allow together: the hull of the periods,
    narrowed by every bound; may be empty (``first > last``)."""
    periods = [s for s in spans if not s.bound]
    first = min((s.first for s in periods), default=None)
    last = max((s.last for s in periods), default=None)
    for s in spans:
        if s.bound and s.first is not None:
            first = s.first if first is None else max(first, s.first)
        if s.bound and s.last is not None:
            last = s.last if last is None else min(last, s.last)
    return first, last
