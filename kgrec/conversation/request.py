"""What a person asked for, grounded in the graph: :class:`Mention`, :class:`Reference` and
:class:`Request`, and the :class:`RequestBuilder` both parsers assemble a request with.

Every id in a request names a node of the graph: a parser only ever puts in a :class:`Mention`
what the :class:`~kgrec.conversation.linking.EntityLinker` found; words that named nothing go to
:attr:`Request.unmatched` as the person wrote them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Iterator

from kgrec.errors import InvalidValueError, shown
from kgrec.graph.schema import NodeLabel

#: How a mention was linked, most literal first: the phrase is the node's name as stored
#: (``exact``); a word of the linker's alias table (``alias``: "funny" -> Comedy); the name
#: after folding case, accents, punctuation, a leading article, a trailing "(1996)" or a plural
#: (``normalized``); a misspelling of it (``fuzzy``); or the nearest node text by meaning
#: (``meaning``).
MATCH_KINDS = ("exact", "alias", "normalized", "fuzzy", "meaning")

#: The fields of a :class:`Request` that hold mentions.
MENTION_FIELDS = ("liked", "disliked", "wanted", "excluded", "seen")

#: What was said of an item of the last list shown: the person liked it, disliked it, has seen
#: it, or wants more like it.
STANCES = ("liked", "disliked", "seen", "more_like")


class Role(str, Enum):
    """What a part of a request says of the things it names."""

    LIKE = "like"  # "I loved Fargo", "something like Fargo", "I like thrillers"
    DISLIKE = "dislike"  # "I hated Se7en", "I didn't like Tom Cruise"
    WANT = "want"  # "a thriller", "with Kevin Spacey" (the default)
    EXCLUDE = "exclude"  # "no horror", "not Tom Cruise", "without", "anything but"
    SEEN = "seen"  # "I've seen Fargo"
    NEUTRAL = "neutral"  # "I haven't seen Fargo": says nothing either way


@dataclass(frozen=True, slots=True)
class Mention:
    """A phrase of the request linked to a node of the graph.

    ``phrase`` is the request's words as written; ``label`` is ``ITEM`` or ``ENTITY``; ``id``
    and ``name`` are the node's; ``how`` is one of :data:`MATCH_KINDS`; ``score`` in [0, 1] is
    1.0 for exact, alias and normalized matches, the rapidfuzz ratio / 100 for fuzzy ones and
    the store's vector similarity (``(1 + cos) / 2``) for meaning. ``relations`` are the
    knowledge-graph relation types that link items to this entity (``("has_genre",)``,
    ``("director", "writer")``), sorted; empty for items.
    """

    phrase: str
    label: NodeLabel
    id: str
    name: str
    how: str
    score: float
    relations: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.label not in (NodeLabel.ITEM, NodeLabel.ENTITY):
            raise InvalidValueError(f"a mention names an item or an entity, not {shown(self.label)}")
        if self.how not in MATCH_KINDS:
            raise InvalidValueError(f"how must be one of {MATCH_KINDS}, got {shown(self.how)}")
        if not 0.0 <= self.score <= 1.0:
            raise InvalidValueError(f"score must be in [0, 1], got {shown(self.score)}")

    @property
    def key(self) -> tuple[NodeLabel, str]:
        return (self.label, self.id)


@dataclass(frozen=True, slots=True)
class Reference:
    """"The second one": ``position`` (1-based) in the last list shown to the person, the
    ``item`` id at that position, what was said of it (``stance``, one of :data:`STANCES`)
    and the ``phrase`` that said it."""

    position: int
    item: str
    stance: str
    phrase: str

    def __post_init__(self) -> None:
        if self.stance not in STANCES:
            raise InvalidValueError(f"stance must be one of {STANCES}, got {shown(self.stance)}")
        if isinstance(self.position, bool) or not isinstance(self.position, int) or self.position < 1:
            raise InvalidValueError(f"position must be a positive int, got {shown(self.position)}")


@dataclass(frozen=True, slots=True)
class Request:
    """One turn of a person's request, grounded in the graph.

    - ``liked``: items and entities the person likes, or wants more like ("I loved Fargo",
      "something like Fargo", "I like thrillers"); an item named with no stance ("Fargo, but
      funnier") counts as liked, as does an entity in a "seen" clause.
    - ``disliked``: items and entities the person dislikes ("I hated Se7en").
    - ``wanted``: entities the recommendations should have ("a thriller with Kevin Spacey").
    - ``excluded``: entities the recommendations must not have, items they must not be ("no
      horror", "not Tom Cruise", "anything but Fargo").
    - ``seen``: items the person has seen ("I've seen Fargo"). Liked and disliked items are
      usually seen too; they are not repeated here.
    - ``years``: the inclusive ``(first, last)`` release years asked for, ``None`` for an open
      side; ``(None, None)`` when no year was asked for or the years asked for exclude each
      other (then ``conflicts`` says so).
    - ``refers_to``: what was said of items of the last list shown ("more like the second").
    - ``unmatched``: the phrases that named nothing in the graph, or that the parser could not
      use (a reference to a list that was not shown, a negated decade), as written.
    - ``conflicts``: contradictions, in words a person can read ("asked for and against
      Horror"). A node asked for and against is in neither list.
    - ``english``: False when the text does not read as English; then nothing else is set and
      ``unmatched`` holds the text's phrases.

    Each mention appears at most once per list, in the order of the text.
    """

    text: str
    liked: tuple[Mention, ...] = ()
    disliked: tuple[Mention, ...] = ()
    wanted: tuple[Mention, ...] = ()
    excluded: tuple[Mention, ...] = ()
    seen: tuple[Mention, ...] = ()
    years: tuple[int | None, int | None] = (None, None)
    refers_to: tuple[Reference, ...] = ()
    unmatched: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    english: bool = True

    def __post_init__(self) -> None:
        low, high = self.years
        if low is not None and high is not None and low > high:
            raise InvalidValueError(f"years must be an inclusive (first, last) range, got {self.years}")

    def mentions(self) -> Iterator[tuple[str, Mention]]:
        """``(field name, mention)`` for every mention, field by field."""
        for name in MENTION_FIELDS:
            for mention in getattr(self, name):
                yield name, mention

    @property
    def understood(self) -> bool:
        """True when the request names anything in the graph, a year or a shown item."""
        return any(True for _ in self.mentions()) or self.years != (None, None) or bool(self.refers_to)


#: Where a mention of each label goes, per role (a role not listed, NEUTRAL, keeps nothing).
_FIELD = {
    (Role.LIKE, NodeLabel.ITEM): "liked",
    (Role.LIKE, NodeLabel.ENTITY): "liked",
    (Role.WANT, NodeLabel.ITEM): "liked",
    (Role.WANT, NodeLabel.ENTITY): "wanted",
    (Role.DISLIKE, NodeLabel.ITEM): "disliked",
    (Role.DISLIKE, NodeLabel.ENTITY): "disliked",
    (Role.EXCLUDE, NodeLabel.ITEM): "excluded",
    (Role.EXCLUDE, NodeLabel.ENTITY): "excluded",
    (Role.SEEN, NodeLabel.ITEM): "seen",
    (Role.SEEN, NodeLabel.ENTITY): "liked",
}
_POSITIVE, _NEGATIVE = ("liked", "wanted"), ("disliked", "excluded")


@dataclass
class RequestBuilder:
    """Collects what a parser found in ``text``, in text order, and builds the
    :class:`Request`: mentions go to their field by role (see :class:`Request`), repeats are
    dropped, a node asked for and against is dropped from both sides and reported, and year
    bounds that leave no year are reported instead of kept."""

    text: str
    _fields: dict[str, dict[tuple[NodeLabel, str], Mention]] = field(
        default_factory=lambda: {name: {} for name in MENTION_FIELDS}
    )
    _references: dict[tuple[int, str], Reference] = field(default_factory=dict)
    _unmatched: dict[str, None] = field(default_factory=dict)
    _conflicts: list[str] = field(default_factory=list)
    years: tuple[int | None, int | None] = (None, None)

    def add(self, role: Role, mention: Mention) -> None:
        name = _FIELD.get((role, mention.label))
        if name is not None:
            self._fields[name].setdefault(mention.key, mention)

    def refer(self, reference: Reference) -> None:
        self._references.setdefault((reference.position, reference.stance), reference)

    def unmatched(self, phrase: str) -> None:
        if phrase:
            self._unmatched.setdefault(phrase)

    def set_years(self, low: int | None, high: int | None, phrases: list[str]) -> None:
        """Keep ``(low, high)``, or report ``phrases`` as a conflict when ``low > high``."""
        if low is not None and high is not None and low > high:
            said = " and ".join(repr(p) for p in phrases)
            self._conflicts.append(f"the years asked for leave no year: {said}")
            self.years = (None, None)
        else:
            self.years = (low, high)

    def build(self) -> Request:
        fields = {name: dict(found) for name, found in self._fields.items()}
        conflicts = list(self._conflicts)
        for key in sorted(
            {k for n in _POSITIVE for k in fields[n]} & {k for n in _NEGATIVE for k in fields[n]},
            key=lambda k: (k[0].value, k[1]),
        ):
            mention = next(fields[n][key] for n in _POSITIVE + _NEGATIVE if key in fields[n])
            conflicts.append(f"asked for and against {mention.name}")
            for name in _POSITIVE + _NEGATIVE:
                fields[name].pop(key, None)
        stances: dict[int, set[str]] = {}
        for position, stance in self._references:
            stances.setdefault(position, set()).add(stance)
        for position, said in sorted(stances.items()):
            if "disliked" in said and said & {"liked", "more_like"}:
                conflicts.append(f"liked and disliked item {position} of the list shown")
        return Request(
            text=self.text,
            **{name: tuple(found.values()) for name, found in fields.items()},
            years=self.years,
            refers_to=tuple(self._references.values()),
            unmatched=tuple(self._unmatched),
            conflicts=tuple(conflicts),
        )
