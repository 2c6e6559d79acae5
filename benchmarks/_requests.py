"""Requests a person could write about a film they want, generated from the film's graph facts.

A :class:`Fact` is one true statement about an item in the graph: it links to an entity over a
knowledge-graph relation (``has_genre``, ``starring``, ``director``, ...) or has the item
property ``year``. :class:`RequestGenerator` shuffles an item's facts once per seed and writes
the first ``n`` of them the way a person would ask for such a film, from a small template
grammar with several phrasings per fact kind::

    "I'm looking for a 90s crime and thriller movie with Kevin Spacey."
    "Something from the nineties directed by Bryan Singer?"

and writes a later turn's single added fact as a follow-up ("Also one starring Gabriel Byrne.").

Contracts (tests/benchmarks/test_request_generator.py):
- only the item's own facts are said: entity names as the graph writes them, less a trailing
  DBpedia disambiguator (``"Adam Brooks (filmmaker)"`` is said ``"Adam Brooks"``); the year as
  its decade (``"90s"``, ``"1990s"``, ``"nineties"``, which contain it) or as the year itself;
- the item is never named: a fact whose wording contains the item's title (or a title in its
  parentheses, an aka) is never used, and a text that would contain it is drawn again;
- everything is seeded: the same seed, item and ``n`` give the same text, whatever else was
  generated before (each draw has its own ``random.Random`` keyed by seed, item and purpose).
Relations without a phrasing in :data:`PERSON_PHRASINGS` (or ``has_genre``) and the genre
``unknown`` are not facts a person would say; they are left out.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from kgrec.graph.snapshot import Snapshot
from kgrec.graph.store import GraphStore

#: The fact kind of an item's ``year`` property.
YEAR = "year"
GENRE = "has_genre"
#: Genre names that say nothing about a film.
VOID_GENRES = frozenset({"unknown"})
#: How a person asks for each relation's entity ``{}``: "with Kevin Spacey".
PERSON_PHRASINGS: dict[str, tuple[str, ...]] = {
    "starring": ("with {}", "starring {}", "featuring {}", "that has {} in it"),
    "director": ("directed by {}", "by director {}", "that {} directed"),
    "writer": ("written by {}", "with a script by {}", "that {} wrote"),
    "musicComposer": ("with music by {}", "scored by {}", "with a score by {}"),
    "producer": ("produced by {}", "that {} produced"),
    "cinematography": ("shot by {}", "with cinematography by {}"),
    "editing": ("edited by {}", "with editing by {}"),
    "distributor": ("released by {}", "distributed by {}"),
}
#: Genre name -> (its word before "movie" when several genres are named, nouns for it alone).
GENRE_WORDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Action": ("action", ("action movie", "action film")),
    "Adventure": ("adventure", ("adventure movie", "adventure film")),
    "Animation": ("animated", ("animated film", "animated movie", "animation")),
    "Children's": ("children's", ("children's movie", "children's film")),
    "Comedy": ("comedy", ("comedy",)),
    "Crime": ("crime", ("crime movie", "crime film")),
    "Documentary": ("documentary", ("documentary",)),
    "Drama": ("drama", ("drama",)),
    "Fantasy": ("fantasy", ("fantasy movie", "fantasy film")),
    "Film-Noir": ("film-noir", ("film noir", "film-noir")),
    "Horror": ("horror", ("horror movie", "horror film")),
    "Musical": ("musical", ("musical",)),
    "Mystery": ("mystery", ("mystery",)),
    "Romance": ("romance", ("romance", "romantic movie")),
    "Sci-Fi": ("sci-fi", ("sci-fi movie", "sci-fi film")),
    "Thriller": ("thriller", ("thriller",)),
    "War": ("war", ("war movie", "war film")),
    "Western": ("western", ("western",)),
}
_DECADE_WORDS = {
    1920: "twenties", 1930: "thirties", 1940: "forties", 1950: "fifties",
    1960: "sixties", 1970: "seventies", 1980: "eighties", 1990: "nineties",
}
_OPENERS = (
    ("", "."), ("I want ", "."), ("I'm looking for ", "."), ("Show me ", "."),
    ("Find me ", "."), ("Can you recommend ", "?"), ("Any suggestions for ", "?"),
)
_PLAIN_HEADS = ("movie", "film")
#: A later turn's sentence around its one fact, per kind of fact.
_FOLLOW_UPS = {
    GENRE: ("It should be {}.", "I'd prefer {}.", "Maybe {}?", "Something that's {}."),
    YEAR: ("One {}.", "Something {}.", "It should be {}.", "Maybe {}?"),
    "person": ("Also one {}.", "One {}.", "Something {}.", "Maybe one {}?"),
}
#: Share of year facts said as the year itself ("from 1995") rather than its decade.
EXACT_YEAR_SHARE = 0.25
#: Draws of a text before giving up on one that does not name the item.
_DRAWS = 20


@dataclass(frozen=True, slots=True)
class Fact:
    """``relation`` is a knowledge-graph relation (``value``: the entity id) or :data:`YEAR`
    (``value``: the year); ``name`` is how a person says the entity (or the year as text)."""

    relation: str
    value: str | int
    name: str


@dataclass(frozen=True, slots=True)
class GeneratedRequest:
    """A request ``text`` that says exactly ``facts``."""

    item: str
    text: str
    facts: tuple[Fact, ...]


def spoken_name(name: str) -> str:
    """``name`` without a trailing DBpedia disambiguator: ``"Alan Parker (musician)"`` ->
    ``"Alan Parker"``."""
    return re.sub(r"\s*\([^()]*\)$", "", name).strip() or name


def words(text: str) -> list[str]:
    """Lower-case ASCII words of ``text`` (accents dropped, apostrophes joined: "I'm" -> "im")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.findall(r"[a-z0-9]+", ascii_text.lower().replace("'", ""))


def title_variants(title: str) -> list[list[str]]:
    """The word sequences that name an item titled ``title`` (``"Usual Suspects, The (1995)"``):
    the title without its year and trailing article (``usual suspects``) and each other
    parenthesized part (an aka title)."""
    parts = re.findall(r"\(([^()]*)\)", title)
    main = re.sub(r"\([^()]*\)", " ", title)
    main = re.sub(r",\s*(the|a|an|les|la|le|il|das|der|die|el)\s*$", "", main.strip(), flags=re.I)
    names = [main] + [p for p in parts if not re.fullmatch(r"\s*[0-9]{4}\s*", p)]
    return [w for w in (words(n) for n in names) if w]


def names_item(text: str, titles: Sequence[list[str]]) -> bool:
    """True when ``text`` contains one of ``titles`` (word sequences) as consecutive words."""
    said = words(text)
    return any(
        said[k : k + len(t)] == t for t in titles for k in range(len(said) - len(t) + 1)
    )


def item_facts(store: GraphStore, snapshot: Snapshot | None = None) -> dict[str, list[Fact]]:
    """Every item's sayable facts, in a fixed order (relation, then entity id; the year last):
    ``Item -[relation]-> Entity`` edges of the relations in :data:`PERSON_PHRASINGS` and
    ``has_genre`` (entities with a name; not :data:`VOID_GENRES`), and the ``year`` property."""
    snapshot = snapshot or store.snapshot()
    items, entities = snapshot.node_ids["item"], snapshot.node_ids["entity"]
    names = snapshot.node_name["entity"]
    facts: dict[str, list[Fact]] = {i: [] for i in items}
    for (head, relation, tail), edges in sorted(snapshot.triples.items()):
        if head != "item" or tail != "entity" or not (relation == GENRE or relation in PERSON_PHRASINGS):
            continue
        for i, e in edges.t().tolist():
            name = names[e]
            if name and not (relation == GENRE and name in VOID_GENRES):
                facts[items[i]].append(Fact(relation, entities[e], spoken_name(name)))
    for record in store.get_nodes("Item", items):
        year = record.properties.get(YEAR)
        if isinstance(year, int) and not isinstance(year, bool):
            facts[record.id].append(Fact(YEAR, year, str(year)))
    return facts


def _article(phrase: str) -> str:
    """``"a thriller"``, ``"an action movie"``, ``"an 80s film"``."""
    return f"an {phrase}" if phrase[0] in "aeiou8" else f"a {phrase}"


def _decade(year: int, rng: random.Random) -> tuple[str, str]:
    """(a modifier before the noun, a phrase after it) for ``year``'s decade: ``("90s", "from
    the 90s")``, ``("nineties", "made in the nineties")``."""
    decade = year - year % 10
    forms = [f"{decade % 100:02d}s", f"{decade}s"]
    if decade in _DECADE_WORDS:
        forms.append(_DECADE_WORDS[decade])
    form = rng.choice(forms)
    return form, rng.choice((f"from the {form}", f"made in the {form}"))


class RequestGenerator:
    """Seeded requests about the items of ``facts`` (from :func:`item_facts`), never naming an
    item by its ``titles`` (item id -> display name)."""

    def __init__(
        self, facts: Mapping[str, Sequence[Fact]], titles: Mapping[str, str], seed: int = 0
    ) -> None:
        self.seed = seed
        self._titles = {i: title_variants(titles.get(i) or "") for i in facts}
        self._order = {i: self._shuffled(i, fs) for i, fs in facts.items()}

    def _rng(self, item: str, *purpose: object) -> random.Random:
        return random.Random("/".join(map(str, (self.seed, item, *purpose))))

    def _shuffled(self, item: str, facts: Sequence[Fact]) -> list[Fact]:
        """The item's facts that never name it, in the seeded order they are told."""
        titles = self._titles[item]
        usable = [f for f in facts if not all(names_item(w, titles) for w in _wordings(f))]
        self._rng(item, "order").shuffle(usable)
        return usable

    def facts(self, item: str) -> list[Fact]:
        """``item``'s usable facts in the order a person tells them (request, then follow-ups)."""
        return list(self._order[item])

    def request(self, item: str, n: int) -> GeneratedRequest | None:
        """A first request saying ``item``'s first ``n`` facts; ``None`` if it has fewer."""
        facts = self._order[item][:n]
        if len(facts) < n or n < 1:
            return None
        return self._draw(item, tuple(facts), ("request", n), self._sentence)

    def follow_up(self, item: str, index: int) -> GeneratedRequest | None:
        """A later turn adding ``item``'s fact number ``index`` (0-based, so ``index >= 1``);
        ``None`` if it has no such fact."""
        if not 1 <= index < len(self._order[item]):
            return None
        fact = self._order[item][index]
        return self._draw(item, (fact,), ("follow-up", index), self._follow_up)

    def _draw(
        self,
        item: str,
        facts: tuple[Fact, ...],
        purpose: tuple[object, ...],
        write: Callable[[tuple[Fact, ...], random.Random], str],
    ) -> GeneratedRequest | None:
        """The first of :data:`_DRAWS` texts ``write`` draws that does not name ``item``."""
        rng = self._rng(item, *purpose)
        for _ in range(_DRAWS):
            text = write(facts, rng)
            if not names_item(text, self._titles[item]):
                return GeneratedRequest(item, text, facts)
        return None

    # -- the grammar ----------------------------------------------------------------------------
    def _sentence(self, facts: tuple[Fact, ...], rng: random.Random) -> str:
        """[opener] a [decade] (genres | movie) [from the decade] [clauses] (. | ?), or
        [opener] something [from the decade] [clauses] (. | ?)"""
        genres = [f.name for f in facts if f.relation == GENRE]
        years = [f.value for f in facts if f.relation == YEAR]
        head = self._genres(genres, rng) if genres else rng.choice(_PLAIN_HEADS)
        before, after = "", ""
        if years:
            year = int(years[0])
            if rng.random() < EXACT_YEAR_SHARE:
                after = rng.choice((f"from {year}", f"released in {year}", f"made in {year}"))
            else:
                modifier, phrase = _decade(year, rng)
                before, after = (f"{modifier} ", "") if rng.random() < 0.5 else ("", phrase)
        clauses = self._clauses([f for f in facts if f.relation not in (GENRE, YEAR)], rng)
        if not genres and not before and rng.random() < 0.3:
            noun = "something"
        else:
            noun = _article(before + head)
        body = " ".join(p for p in (noun, after, clauses) if p)
        opener, end = rng.choice(_OPENERS)
        text = opener + body + end
        return text[0].upper() + text[1:]

    def _genres(self, genres: list[str], rng: random.Random) -> str:
        if len(genres) == 1:
            return rng.choice(_genre_nouns(genres[0]))
        modifiers = [_genre_modifier(g) for g in genres]
        return f"{', '.join(modifiers[:-1])} and {modifiers[-1]} {rng.choice(_PLAIN_HEADS)}"

    def _clauses(self, facts: list[Fact], rng: random.Random) -> str:
        """One clause per relation ("starring A and B"), joined with commas and "and"."""
        by_relation: dict[str, list[str]] = {}
        for f in facts:
            by_relation.setdefault(f.relation, []).append(f.name)
        clauses = [
            rng.choice(PERSON_PHRASINGS[rel]).format(" and ".join(names))
            for rel, names in by_relation.items()
        ]
        if len(clauses) <= 1:
            return "".join(clauses)
        return f"{', '.join(clauses[:-1])} and {clauses[-1]}"

    def _follow_up(self, facts: tuple[Fact, ...], rng: random.Random) -> str:
        """A follow-up saying the one fact: "Maybe a thriller?", "One from the 90s."."""
        [fact] = facts
        if fact.relation == GENRE:
            return rng.choice(_FOLLOW_UPS[GENRE]).format(_article(rng.choice(_genre_nouns(fact.name))))
        if fact.relation == YEAR:
            year = int(fact.value)
            phrase = f"from {year}" if rng.random() < EXACT_YEAR_SHARE else _decade(year, rng)[1]
            return rng.choice(_FOLLOW_UPS[YEAR]).format(phrase)
        return rng.choice(_FOLLOW_UPS["person"]).format(self._clauses([fact], rng))


def _genre_nouns(genre: str) -> tuple[str, ...]:
    return GENRE_WORDS[genre][1] if genre in GENRE_WORDS else (f"{genre.lower()} movie",)


def _genre_modifier(genre: str) -> str:
    return GENRE_WORDS[genre][0] if genre in GENRE_WORDS else genre.lower()


def _wordings(fact: Fact) -> tuple[str, ...]:
    """The ways the grammar can say ``fact`` (a decade's are checked per text)."""
    if fact.relation == GENRE:
        return (_genre_modifier(fact.name), *_genre_nouns(fact.name))
    return (fact.name,)
