"""The words of requests and of node names: tokens, their folded forms, the keys names are
matched by, which words may name something, and whether a text reads as English.

Folding (:func:`fold`) drops accents and apostrophes and case-folds, so "Amélie", "amelie" and
"AMELIE" are one word, as are "didn't" and "didnt". A name's key (:func:`name_keys`) also drops
a leading English article, a trailing "(1996)" or "(actor)", turns "Usual Suspects, The" into
"usual suspects" and joins initials ("L.A." -> "la").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

#: A word (letters and digits of any script, with inner apostrophes) or one other character.
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[^\w\s]")
_APOSTROPHES = str.maketrans("", "", "'’")

#: A four-digit year (1870-2039) as a whole token.
YEAR = re.compile(r"(18[7-9]\d|19\d\d|20[0-3]\d)")

LEADING_ARTICLES = frozenset({"the", "a", "an"})

#: Articles that catalogues move to the end of a title ("Usual Suspects, The").
_MOVED_ARTICLE = re.compile(
    r"^(?P<title>.+), (?P<article>the|a|an|la|le|les|l'|il|lo|gli|el|los|las|das|der|die|det|"
    r"den|de|het|un|une|una|uno|ein|eine)$",
    re.IGNORECASE,
)
_TRAILING_PARENTHESES = re.compile(r"^(?P<rest>.*?)\s*\((?P<inner>[^()]*)\)\s*$")


@dataclass(frozen=True, slots=True)
class Token:
    """A word or punctuation character of a text: ``text[start:end]`` and its folded ``norm``."""

    text: str
    norm: str
    start: int
    end: int

    @property
    def word(self) -> bool:
        return self.norm[:1].isalnum()


def fold(text: str) -> str:
    """``text`` without accents or apostrophes, case-folded: "Children's" -> "childrens"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.casefold().translate(_APOSTROPHES)


def tokenize(text: str) -> list[Token]:
    """The words and punctuation characters of ``text``, in order."""
    return [Token(m.group(), fold(m.group()), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def words(text: str) -> list[str]:
    """The folded words of ``text`` (punctuation dropped)."""
    return [t.norm for t in tokenize(text) if t.word]


def phrase_key(norms: Sequence[str]) -> str:
    """The key of a phrase's folded words: initials joined ("l a confidential" -> "la
    confidential"), a leading English article dropped. ``""`` when nothing is left."""
    joined: list[str] = []
    run: list[str] = []
    for word in [*norms, ""]:
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        joined += ["".join(run)] if len(run) > 1 else run
        run = []
        if word:
            joined.append(word)
    if joined and joined[0] in LEADING_ARTICLES:
        joined = joined[1:]
    return " ".join(joined)


@dataclass(frozen=True, slots=True)
class NameKeys:
    """The keys a node name is matched by: its title's, those of alternative titles in
    parentheses (items only: "Seven (Se7en) (1995)" -> "seven", "se7en"), and the title's with
    its year ("seven 1995")."""

    keys: tuple[str, ...]
    year: int | None


def _restore_article(title: str) -> str:
    moved = _MOVED_ARTICLE.match(title.strip())
    return f"{moved['article']} {moved['title']}" if moved else title


def name_keys(name: str, *, alternatives: bool) -> NameKeys:
    """The :class:`NameKeys` of a node ``name``. Trailing parentheses hold a year, an
    alternative title (kept when ``alternatives``, as for items) or a disambiguator
    ("Alan Parker (musician)", dropped)."""
    title, year, others = name, None, []
    while (found := _TRAILING_PARENTHESES.match(title)) and found["rest"]:
        inner = found["inner"].strip()
        if year is None and not others and YEAR.fullmatch(inner):
            year = int(inner)
        elif alternatives and inner:
            others.append(inner)
        title = found["rest"]
    keys = [phrase_key(words(_restore_article(t))) for t in [title, *reversed(others)]]
    if year is not None and keys[0]:
        keys.append(f"{keys[0]} {year}")
    return NameKeys(tuple(dict.fromkeys(k for k in keys if k)), year)


def singular(key: str) -> str | None:
    """``key`` with its last word made singular ("thrillers" -> "thriller", "comedies" ->
    "comedy"), or ``None`` when it does not end in a plural."""
    head, _, last = key.rpartition(" ")
    if len(last) < 4 or not last.endswith("s") or last.endswith("ss"):
        return None
    if last.endswith("ies"):
        stem = last[:-3] + "y"
    elif last.endswith(("ches", "shes", "xes", "sses")):
        stem = last[:-2]
    else:
        stem = last[:-1]
    return f"{head} {stem}" if head else stem


# -- which words may name something ------------------------------------------------------------

#: English function words: they never name anything on their own, and they tell English apart.
ENGLISH = frozenset(
    """a about above after again against all also am an and any anything are around as at be
    because been before being below between both but by can cannot could did didnt do does doesnt
    doing dont down during each either else even ever every everything few for from further get
    got had has hasnt have havent having he her here hers him his how i id if ill im in into is
    isnt it its itself ive just me might more most much must my myself neither never no nobody
    none nor not nothing now of off on once one ones only or other our ours out over own please
    quite rather really same she should so some somebody someone something than thanks that thats
    the their theirs them then there these they this those through to too under until up us very
    was wasnt we were werent what whats when where which while who whom why will with without
    wont would wouldnt yes you your youre yours make makes made get gets go goes going try
    think know mean meant say said tell let lets put take keep help wish hope guess care mind
    matter""".split()
)

#: Words of asking for films: never a name on their own.
REQUEST_WORDS = frozenset(
    """movie movies film films flick flicks cinema show shows series title titles watch watched
    watching see seen saw recommend recommends recommended recommendation recommendations suggest
    suggestion suggestions want wants wanted wanna like liked likes love loved loves hate hated
    hates dislike disliked dislikes enjoy enjoyed enjoys adore adored prefer preferred looking look
    find give show need mood feel felt tonight today night evening weekend good great nice best
    better bad worse worst awesome amazing brilliant fantastic terrible awful boring lot lots bit
    kind sort type stuff thing things starring featuring directed director directors actor actors
    actress cast genre genre genres similar style vein lines same instead maybe perhaps hi hello
    hey ok okay yeah yep nope sure thank already also ago again time times still first second third
    fourth fifth sixth seventh eighth ninth tenth last next number option options pick picks
    choice year years decade decades era old older new newer recent latest release released fan
    favorite favourite favorites favourites big bigger huge fun""".split()
)

#: Describing words: they may be part of a name ("Dark City") and are reported when they name
#: nothing, but never name a node on their own ("nothing too heavy" is not the film Heavy).
DESCRIBING_WORDS = frozenset(
    """dark heavy light fresh safe twisted sad happy short long slow fast quick violent gory
    bloody smart clever silly stupid dumb weird strange classic famous popular underrated
    overrated cheesy crazy wild intense tense emotional touching moving inspiring uplifting deep
    serious hard soft small little real true cool exciting relaxing thoughtful beautiful gritty
    realistic original unusual different simple easy mindless epic twist ending story plot acting
    characters soundtrack visuals effects unknown funny scary sweet cute""".split()
)

STOP_WORDS = ENGLISH | REQUEST_WORDS


def can_name(norm: str) -> bool:
    """True when the folded word ``norm`` can name a node by itself: not a stop word, not a
    describing word, not a bare number."""
    return norm not in STOP_WORDS and norm not in DESCRIBING_WORDS and not norm.isdigit()


# -- is it English? ----------------------------------------------------------------------------

#: Frequent function words of other languages written in Latin script (none is English).
_FOREIGN = frozenset(
    """je tu il elle nous vous ils elles les des une est et pas avec sans pour voudrais veux
    aime cherche ich du er sie wir ihr und nicht mit ohne ein eine einen einem der das ist bitte
    mochte suche keine kein el los las una uno y quiero por que es pelicula peliculas
    gusta busco di della voglio senza mi piace cerco eu nao quero com sem filme filmes het een
    niet ik wil geen zonder och jag inte vill med utan ikke og jeg""".split()
)


def _latin(word: str) -> bool:
    return all(
        not c.isalpha() or unicodedata.name(c, "").startswith("LATIN") for c in word
    )


def reads_as_english(norms: Sequence[str]) -> bool:
    """Whether folded words read as English: False when words of another language (Latin
    function words of other languages, words in another script) outnumber English function
    words. A text of names only reads as English."""
    english = sum(w in ENGLISH or w in REQUEST_WORDS for w in norms)
    foreign = sum(w in _FOREIGN or not _latin(w) for w in norms)
    return foreign <= english
