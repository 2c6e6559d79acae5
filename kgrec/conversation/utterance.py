"""A request as the parser reads it: its tokens, and the spans each pass has taken."""

from __future__ import annotations

from dataclasses import dataclass

from kgrec.conversation.words import STOP_WORDS, Token, tokenize


@dataclass(frozen=True, slots=True)
class Span:
    """Tokens ``[start, end)`` that one pass took: ``kind`` is ``mention``, ``years``,
    ``cue``, ``reference`` (``value``: position, -1 for the last), ``pronoun`` or
    ``unmatched``."""

    start: int
    end: int
    kind: str
    value: object = None


class Utterance:
    """A request's tokens and the spans taken so far."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[Token] = tokenize(text)
        self.norms = [t.norm for t in self.tokens]
        self.owner: list[Span | None] = [None] * len(self.tokens)

    def take(self, span: Span) -> None:
        for k in range(span.start, span.end):
            self.owner[k] = span

    def free(self, start: int, end: int) -> bool:
        return all(o is None for o in self.owner[start:end])

    def surface(self, start: int, end: int) -> str:
        """The text of tokens ``[start, end)`` as written."""
        return self.text[self.tokens[start].start : self.tokens[end - 1].end]

    def spans(self) -> list[Span]:
        """Every span taken, in text order."""
        return sorted({id(s): s for s in self.owner if s is not None}.values(), key=lambda s: s.start)

    def runs(self, breaks: frozenset[str]) -> list[tuple[int, int]]:
        """Maximal runs of free tokens, split at taken tokens, punctuation and ``breaks``, with
        stop words trimmed from both ends (runs of stop words only are dropped)."""
        runs, start = [], None
        for k, token in enumerate([*self.tokens, None]):
            cut = token is None or self.owner[k] is not None or not token.word or token.norm in breaks
            if cut and start is not None:
                runs.append((start, k))
                start = None
            elif not cut and start is None:
                start = k
        trimmed = []
        for a, b in runs:
            while a < b and self.norms[a] in STOP_WORDS:
                a += 1
            while b > a and self.norms[b - 1] in STOP_WORDS:
                b -= 1
            if a < b:
                trimmed.append((a, b))
        return trimmed
