"""Understanding an English request, deterministically and offline: :class:`RequestParser`.

``parse(text, shown)`` reads the text in passes, each over the words no earlier pass took:

1. names: the longest word n-grams that name an item or entity (alias, exact, normalized;
   see :class:`~kgrec.conversation.linking.EntityLinker`), so that "Sense and Sensibility"
   and "Sex, Lies, and Videotape" stay whole;
2. years ("90s", "before 1980", "between 1990 and 1995"; :mod:`~kgrec.conversation.years`);
3. cues ("I loved", "no", "something like", "I've seen"; :mod:`~kgrec.conversation.cues`);
4. references to the list shown ("the second one", "number 3", "the last one") and pronouns
   ("seen it", "loved that one");
5. then, if the rest does not read as English, nothing is kept (:attr:`Request.english`);
6. misspelled names (fuzzy), then the runs of words between stop words by meaning (with a
   meaning search: "movies by kubrick or with pacino" tries "kubrick" and "pacino");
7. what is left goes to :attr:`Request.unmatched`, run by run.

Clauses end at ``. ! ? ;`` and "but", "though"... (a fresh start) or at ``,`` and "and" (a
clause with no cue of its own says what the one before said: "I liked Fargo and Heat"). In a
clause, a negation ("no", "not", "without", "nothing with", "anything but") covers everything
after it; other cues cover what follows them, and what comes before the first one ("Fargo was
boring"); with no cue at all, things are wanted ("a thriller with Kevin Spacey"). A pronoun
refers to the last item named before it, else to the only item shown.

Nothing in the text is ever run or sent to a store as a query: phrases are only looked up in
the linker's tables, compared by rapidfuzz and, for meaning, encoded into a vector passed as a
query parameter.
"""

from __future__ import annotations

from typing import Sequence

from kgrec.conversation.cues import CONTINUES, RESETS, Cue, cue_at, said_by_subject
from kgrec.conversation.linking import EntityLinker
from kgrec.conversation.request import Mention, Reference, Request, RequestBuilder, Role
from kgrec.conversation.utterance import Span, Utterance
from kgrec.conversation.words import STOP_WORDS, reads_as_english
from kgrec.conversation.years import RECENT_WORDS, YearSpan, combine, find_years
from kgrec.errors import InvalidValueError, shown as quoted
from kgrec.graph.schema import NodeLabel

#: The longest request read, in characters; a longer one is refused (InvalidValueError), not
#: cut: a cut could drop the "not" that changes what the rest means.
MAX_REQUEST_CHARS = 2_000

#: The most words a misspelled name is looked for in.
FUZZY_MAX_WORDS = 6

_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7, "eighth": 8, "8th": 8,
    "ninth": 9, "9th": 9, "tenth": 10, "10th": 10, "last": -1,
}
_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10,
}
_REFERENCE_NOUNS = frozenset({"one", "film", "movie", "title", "option", "pick", "suggestion", "choice"})
_NUMBER_OPENERS = frozenset({"number", "nr", "#", "option", "pick", "choice"})
#: Words after an ordinal that make it no reference: "the first time", "the second half".
_NOT_REFERENCES = frozenset(
    {"time", "times", "place", "half", "part", "day", "days", "week", "night", "year", "years",
     "minute", "minutes", "hour", "hours", "scene", "season", "episode", "sequel", "of", "few",
     "couple", *_NUMBERS}
)
_PRONOUNS = (("that", "one"), ("this", "one"), ("that", "film"), ("that", "movie"), ("this", "film"),
             ("this", "movie"), ("it",))
#: The stance a role gives a reference ("more like the second": ``more_like``).
_STANCES = {Role.LIKE: "liked", Role.DISLIKE: "disliked", Role.EXCLUDE: "disliked",
            Role.SEEN: "seen", Role.WANT: "more_like"}


def checked_text(text: object) -> str:
    """``text`` if it is a request kgrec reads, else :class:`InvalidValueError` saying why in
    words a person can be shown."""
    if not isinstance(text, str):
        raise InvalidValueError(f"a request must be text, got {type(text).__name__}")
    if not text.strip():
        raise InvalidValueError("the request is empty: say what you would like to watch")
    if len(text) > MAX_REQUEST_CHARS:
        raise InvalidValueError(
            f"the request is {len(text):,} characters long, more than the {MAX_REQUEST_CHARS:,} "
            "kgrec reads: please say it in fewer words"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidValueError("the request is not valid Unicode text") from None
    return text


def checked_shown(shown: object) -> tuple[str, ...]:
    """The item ids of the last list shown, in order."""
    if isinstance(shown, (str, bytes)) or not isinstance(shown, Sequence):
        raise InvalidValueError(f"shown must be a sequence of item ids, got {quoted(shown)}")
    bad = [s for s in shown if not isinstance(s, str)]
    if bad:
        raise InvalidValueError(f"shown must hold item id strings, got {quoted(bad[0])}")
    return tuple(shown)


class RequestParser:
    """Turns English text into a :class:`Request` grounded by ``linker`` (module docstring:
    how). Deterministic, offline, on CPU: the same text, list shown and graph give the same
    request. ``recent_since`` is the first year "recent" and "latest" cover (e.g. the
    catalogue's last year minus 4); without it those words go to ``unmatched``."""

    def __init__(self, linker: EntityLinker, *, recent_since: int | None = None) -> None:
        if not isinstance(linker, EntityLinker):
            raise InvalidValueError(f"linker must be an EntityLinker, got {type(linker).__name__}")
        if recent_since is not None and (isinstance(recent_since, bool) or not isinstance(recent_since, int)):
            raise InvalidValueError(f"recent_since must be a year or None, got {quoted(recent_since)}")
        self.linker = linker
        self.recent_since = recent_since

    def parse(self, text: str, shown: Sequence[str] = ()) -> Request:
        """The request ``text`` makes; ``shown`` are the item ids of the last list shown to
        the person, in order (for "the second one"). Raises :class:`InvalidValueError` for
        text that is not a string, empty, or longer than :data:`MAX_REQUEST_CHARS`."""
        text, shown = checked_text(text), checked_shown(shown)
        doc = Utterance(text)
        self._names(doc)
        years = self._years(doc)
        self._cues(doc)
        self._references(doc)
        rest = [
            t.norm
            for t, owner in zip(doc.tokens, doc.owner)
            if t.word and (owner is None or owner.kind not in ("mention", "years"))
        ]
        if not reads_as_english(rest):  # names and years are no evidence either way
            return Request(text, unmatched=_phrases(doc), english=False)
        self._misspelled(doc)
        self._rest(doc)
        return _Assembly(doc, shown, years).build()

    # -- passes ---------------------------------------------------------------------------------
    def _names(self, doc: Utterance) -> None:
        """Longest first, then leftmost: the n-grams of words that name a node."""
        words = [k for k, t in enumerate(doc.tokens) if t.word]
        for size in range(min(self.linker.max_words, len(words)), 0, -1):
            for i in range(len(words) - size + 1):
                start, end = words[i], words[i + size - 1] + 1
                if not doc.free(start, end) or (size > 1 and doc.norms[start] in ("a", "an")):
                    continue  # "a thriller" is "thriller"
                phrase = doc.surface(start, end)
                tail = _text_after(doc, end)
                norms = [doc.norms[k] for k in words[i : i + size]]
                mention = self.linker.match_name(phrase, norms, (phrase, phrase + tail))
                if mention is not None:
                    doc.take(Span(start, end, "mention", mention))

    def _years(self, doc: Utterance) -> list[YearSpan]:
        free = [o is None for o in doc.owner]
        spans = find_years(doc.norms, free)
        for span in spans:
            doc.take(Span(span.start, span.end, "years", span))
        for k, norm in enumerate(doc.norms):
            if norm in RECENT_WORDS and doc.owner[k] is None:
                if self.recent_since is None:
                    doc.take(Span(k, k + 1, "unmatched"))
                else:
                    span = YearSpan(k, k + 1, self.recent_since, None, True)
                    spans.append(span)
                    doc.take(Span(k, k + 1, "years", span))
        return spans

    def _cues(self, doc: Utterance) -> None:
        k = 0
        while k < len(doc.tokens):
            found = cue_at(doc.norms, k) if doc.owner[k] is None else None
            if found is None or not doc.free(k, k + found[0]):
                k += 1
                continue
            size, cue = found
            if cue.similar and size == 1 and said_by_subject(doc.norms, k):
                cue = Cue(cue.role)  # "I like X" likes X; a bare "like X" asks for more like it
            doc.take(Span(k, k + size, "cue", cue))
            k += size

    def _references(self, doc: Utterance) -> None:
        norms, n = doc.norms, len(doc.norms)
        k = 0
        while k < n:
            span = None
            if doc.owner[k] is None:
                span = _reference_at(norms, k) or _pronoun_at(norms, k)
            if span is not None and doc.free(span.start, span.end):
                doc.take(span)
                k = span.end
            else:
                k += 1

    def _misspelled(self, doc: Utterance) -> None:
        """Longest first, then leftmost: n-grams that start and end with a content word and
        misspell a name (all scored in one batch)."""
        candidates = []
        for a, b in doc.runs(frozenset()):
            words = [k for k in range(a, b) if doc.tokens[k].word]
            for size in range(min(FUZZY_MAX_WORDS, self.linker.max_words, len(words)), 0, -1):
                for i in range(len(words) - size + 1):
                    start, end = words[i], words[i + size - 1] + 1
                    if doc.norms[start] not in STOP_WORDS and doc.norms[end - 1] not in STOP_WORDS:
                        candidates.append((start, end, [doc.norms[k] for k in words[i : i + size]]))
        found = self.linker.match_spellings([(doc.surface(a, b), norms) for a, b, norms in candidates])
        for (start, end, _), mention in zip(candidates, found):
            if mention is not None and doc.free(start, end):
                doc.take(Span(start, end, "mention", mention))

    def _rest(self, doc: Utterance) -> None:
        """What is left, in runs between stop words: linked by meaning, else unmatched."""
        for a, b in doc.runs(STOP_WORDS | RESETS | CONTINUES):
            mention = self.linker.match_meaning(doc.surface(a, b))
            doc.take(Span(a, b, "unmatched") if mention is None else Span(a, b, "mention", mention))


def _text_after(doc: Utterance, end: int) -> str:
    """The character right after token ``end - 1`` ("(1996" + ")"), or ``""``."""
    at = doc.tokens[end - 1].end
    return doc.text[at : at + 1].strip()


def _reference_at(norms: Sequence[str], k: int) -> Span | None:
    """"the second (one)", "second one", "the last one", "number 2", "#2", "option two"."""
    n = len(norms)
    if norms[k] in _NUMBER_OPENERS and k + 1 < n:
        number = _NUMBERS.get(norms[k + 1]) or (int(norms[k + 1]) if norms[k + 1].isdigit() else None)
        if number is not None and 1 <= number <= 99:
            return Span(k, k + 2, "reference", number)
    start = k
    article = norms[k] == "the"
    if article:
        k += 1
    if k >= n or norms[k] not in _ORDINALS:
        return None
    end = k + 1
    noun = end < n and norms[end] in _REFERENCE_NOUNS
    if noun:
        end += 1
    if not (article or noun) or (norms[k] == "last" and not noun):
        return None
    if end < n and norms[end] in _NOT_REFERENCES:
        return None
    return Span(start, end, "reference", _ORDINALS[norms[k]])


def _pronoun_at(norms: Sequence[str], k: int) -> Span | None:
    for words in _PRONOUNS:
        if tuple(norms[k : k + len(words)]) == words:
            return Span(k, k + len(words), "pronoun")
    return None


def _negated(span: YearSpan) -> YearSpan:
    """The bound a negated bound means: "nothing before 1980" is "from 1980 on"."""
    first = None if span.last is None else span.last + 1
    last = None if span.first is None else span.first - 1
    return YearSpan(span.start, span.end, first, last, True)


def _phrases(doc: Utterance) -> tuple[str, ...]:
    """The text's phrases between punctuation, as written (for a text that is not English)."""
    found, start = [], None
    for k, token in enumerate([*doc.tokens, None]):
        if token is not None and token.word:
            start = k if start is None else start
        elif start is not None:
            found.append(doc.surface(start, k))
            start = None
    return tuple(dict.fromkeys(found))


class _Assembly:
    """Clauses, roles, pronouns and references of a parsed text, into a :class:`Request`."""

    def __init__(self, doc: Utterance, shown: tuple[str, ...], years: list[YearSpan]) -> None:
        self.doc, self.shown, self.years = doc, shown, years
        self.builder = RequestBuilder(doc.text)
        self._year_roles: dict[int, Role] = {}  # role of each year span, by its first token

    def build(self) -> Request:
        previous: Role | None = None
        for continues, spans in self._clauses():
            previous = self._clause(spans, previous if continues else None)
        wanted_years = [
            y if self._year_roles.get(y.start) is not Role.EXCLUDE else _negated(y)
            for y in self.years
            if y.bound or self._year_roles.get(y.start) is not Role.EXCLUDE
        ]
        if wanted_years:
            low, high = combine(wanted_years)
            self.builder.set_years(low, high, [self.doc.surface(y.start, y.end) for y in wanted_years])
        return self.builder.build()

    def _clauses(self) -> list[tuple[bool, list[Span]]]:
        """``(continues the clause before, spans)`` per clause, in order."""
        clauses: list[tuple[bool, list[Span]]] = [(False, [])]
        seen: set[int] = set()
        for k, token in enumerate(self.doc.tokens):
            owner = self.doc.owner[k]
            if owner is not None:
                if id(owner) not in seen:
                    seen.add(id(owner))
                    clauses[-1][1].append(owner)
            elif token.norm in RESETS or token.norm in CONTINUES:
                clauses.append((token.norm in CONTINUES, []))
        return clauses

    def _clause(self, spans: list[Span], inherited: Role | None) -> Role:
        """Give each span of a clause its role (see the module docstring); returns the role a
        following clause without cues inherits."""
        current: tuple[Role, bool] | None = None  # (role, similar)
        negated = False
        pending: list[Span] = []
        for span in spans:
            if span.kind != "cue":
                if negated:
                    self._give(span, Role.EXCLUDE, False)
                elif current is None:
                    pending.append(span)
                else:
                    self._give(span, *current)
                continue
            cue: Cue = span.value
            if cue.role is Role.EXCLUDE:
                negated = True
                continue
            if negated and (cue.role is Role.WANT or not said_by_subject(self.doc.norms, span.start)):
                continue  # "not starring X", "not like X": still negated
            negated = False
            current = (cue.role, cue.similar)
            if cue.role is not Role.WANT:
                for waiting in pending:  # "Fargo was boring"
                    self._give(waiting, *current)
                pending = []
        default = (inherited or Role.WANT, False)
        for waiting in pending:
            self._give(waiting, *default)
        if negated:
            return Role.EXCLUDE
        return current[0] if current is not None else default[0]

    def _give(self, span: Span, role: Role, similar: bool) -> None:
        phrase = self.doc.surface(span.start, span.end)
        if span.kind == "mention":
            self.builder.add(role, span.value)
        elif span.kind == "years":
            self._year_roles[span.start] = role
            if role is Role.EXCLUDE and not span.value.bound:
                self.builder.unmatched(phrase)  # "no 80s": not one range of years
        elif span.kind == "unmatched":
            self.builder.unmatched(phrase)
        elif span.kind == "reference":
            self._refer(span.value, role, similar, phrase)
        elif span.kind == "pronoun" and role in (Role.LIKE, Role.DISLIKE, Role.SEEN):
            item = self._antecedent(span.start)
            if item is not None:
                self.builder.add(role, item)
            elif len(self.shown) == 1:
                self._refer(1, role, similar, phrase)
            else:
                self.builder.unmatched(phrase)

    def _refer(self, position: int, role: Role, similar: bool, phrase: str) -> None:
        stance = "more_like" if role is Role.LIKE and similar else _STANCES.get(role)
        if stance is None:
            return
        position = len(self.shown) if position == -1 else position
        if not 1 <= position <= len(self.shown):
            self.builder.unmatched(phrase)  # no list shown, or not that long
            return
        self.builder.refer(Reference(position, self.shown[position - 1], stance, phrase))

    def _antecedent(self, before: int) -> Mention | None:
        """The last item named before token ``before``."""
        items = [
            s.value
            for s in self.doc.spans()
            if s.kind == "mention" and s.start < before and s.value.label is NodeLabel.ITEM
        ]
        return items[-1] if items else None
