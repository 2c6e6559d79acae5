"""RequestParser: stances and negation, years, references, bad input."""

from __future__ import annotations

import pytest

from kgrec import InvalidValueError
from kgrec.conversation import MAX_REQUEST_CHARS, Reference, Request, RequestParser

from .conftest import said

SHOWN = ("5", "7", "9")  # The Usual Suspects, Jerry Maguire, The Shining


def test_likes_wants_and_negation(parser):
    r = parser.parse("I loved Fargo but no horror, and nothing with Tom Cruise")
    assert said(r, "liked") == [("Fargo", "Fargo (1996)")]
    assert said(r, "excluded") == [("horror", "Horror"), ("Tom Cruise", "Tom Cruise")]
    assert (r.wanted, r.disliked, r.seen, r.unmatched, r.conflicts) == ((), (), (), (), ())

    r = parser.parse("a thriller with Kevin Spacey")
    assert said(r, "wanted") == [("thriller", "Thriller"), ("Kevin Spacey", "Kevin Spacey")]
    assert r.wanted[1].relations == ("starring",)


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("no horror", "excluded", ["Horror"]),
        ("not Tom Cruise", "excluded", ["Tom Cruise"]),
        ("without Al Pacino", "excluded", ["Al Pacino"]),
        ("nothing with Kevin Spacey", "excluded", ["Kevin Spacey"]),
        ("anything but horror", "excluded", ["Horror"]),
        ("no horror or thrillers", "excluded", ["Horror", "Thriller"]),
        ("neither horror nor romance", "excluded", ["Horror", "Romance"]),
        ("Kevin Spacey films not starring Brad Pitt", "excluded", ["Brad Pitt"]),
        ("I hate Tom Cruise", "disliked", ["Tom Cruise"]),
        ("I didn't like Se7en", "disliked", ["Seven (Se7en) (1995)"]),
        ("Fargo was boring", "disliked", ["Fargo (1996)"]),
        ("I'm not a fan of westerns or horror", "disliked", ["Horror"]),
        ("I like thrillers", "liked", ["Thriller"]),
        ("I liked Fargo and Heavy (1995)", "liked", ["Fargo (1996)", "Heavy (1995)"]),
        ("something like The Godfather", "liked", ["Godfather, The (1972)"]),
        ("no horror I love comedies", "liked", ["Comedy"]),
        ("I'd like a comedy", "wanted", ["Comedy"]),
        ("I've already seen The Usual Suspects and Se7en", "seen",
         ["Usual Suspects, The (1995)", "Seven (Se7en) (1995)"]),
    ],
)
def test_stances(parser, text, field, expected):
    assert [m.name for m in getattr(parser.parse(text), field)] == expected


def test_like_x_but_not_y(parser):
    r = parser.parse("Something like Fargo but not Kevin Spacey, and funnier")
    assert said(r, "liked") == [("Fargo", "Fargo (1996)")]
    assert said(r, "excluded") == [("Kevin Spacey", "Kevin Spacey")]
    assert r.unmatched == ("funnier",)

    r = parser.parse("like the Godfather but a comedy")
    assert said(r, "liked") == [("the Godfather", "Godfather, The (1972)")]
    assert said(r, "wanted") == [("comedy", "Comedy")]


def test_havent_seen_says_nothing(parser):
    r = parser.parse("I haven't seen Fargo")
    assert not r.understood and r.unmatched == ()


def test_seen_and_pronouns(parser):
    r = parser.parse("I've seen Fargo and loved it")
    assert said(r, "seen") == said(r, "liked") == [("Fargo", "Fargo (1996)")]
    # No item named before: "it" is the only item shown, else the person must say which.
    assert parser.parse("seen it", shown=["7"]).refers_to == (Reference(1, "7", "seen", "it"),)
    r = parser.parse("I've seen it", shown=SHOWN)
    assert (r.refers_to, r.unmatched) == ((), ("it",))
    assert parser.parse("make it funny").unmatched == ()  # not a reference


@pytest.mark.parametrize(
    ("text", "refs"),
    [
        ("more like the second one", [(2, "7", "more_like", "the second one")]),
        ("I liked the first, hated the last one",
         [(1, "5", "liked", "the first"), (3, "9", "disliked", "the last one")]),
        ("seen number 2", [(2, "7", "seen", "number 2")]),
        ("#3 please", [(3, "9", "more_like", "#3")]),
        ("something like the 2nd", [(2, "7", "more_like", "the 2nd")]),
        ("not the third one", [(3, "9", "disliked", "the third one")]),
        ("the first time I saw Fargo", []),
    ],
)
def test_ordinal_references(parser, text, refs):
    r = parser.parse(text, shown=SHOWN)
    assert [(x.position, x.item, x.stance, x.phrase) for x in r.refers_to] == refs


def test_references_beyond_the_list_are_unmatched(parser):
    r = parser.parse("I liked the fifth one", shown=SHOWN)
    assert (r.refers_to, r.unmatched) == ((), ("the fifth one",))
    assert parser.parse("more like the second").unmatched == ("the second",)  # nothing shown


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("something from the 90s", (1990, 1999)),
        ("1990s thrillers", (1990, 1999)),
        ("nineties", (1990, 1999)),
        ("the early 90s", (1990, 1993)),
        ("late eighties", (1986, 1989)),
        ("80s or 90s", (1980, 1999)),
        ("made in 1995", (1995, 1995)),
        ("from 1995", (1995, 1995)),
        ("from 1995 onwards", (1995, None)),
        ("since 1995", (1995, None)),
        ("before 1980", (None, 1979)),
        ("after 2000", (2001, None)),
        ("no later than 1990", (None, 1990)),
        ("between 1990 and 1995", (1990, 1995)),
        ("from 1990 to 1995", (1990, 1995)),
        ("1990-1995", (1990, 1995)),
        ("90s but after 1995", (1996, 1999)),
        ("a thriller", (None, None)),
    ],
)
def test_years(parser, text, years):
    assert parser.parse(text).years == years


def test_years_that_exclude_each_other_are_a_conflict(parser):
    r = parser.parse("after 2000, from the 80s")
    assert r.years == (None, None)
    assert r.conflicts == ("the years asked for leave no year: 'after 2000' and 'from the 80s'",)


def test_negated_years(parser):
    assert parser.parse("no 80s movies").unmatched == ("80s",)  # not one range
    assert parser.parse("nothing before 1980").years == (1980, None)
    assert parser.parse("a thriller, but not after 1995").years == (None, 1995)


def test_recent(linker):
    assert RequestParser(linker).parse("recent thrillers").unmatched == ("recent",)
    assert RequestParser(linker, recent_since=1996).parse("recent thrillers").years == (1996, None)


def test_contradictions(parser):
    r = parser.parse("I want horror but no horror")
    assert (r.wanted, r.excluded) == ((), ())
    assert r.conflicts == ("asked for and against Horror",)
    r = parser.parse("I loved Fargo. I hated Fargo", shown=SHOWN)
    assert (r.liked, r.disliked, r.conflicts) == ((), (), ("asked for and against Fargo (1996)",))
    r = parser.parse("I liked the first one but hated the first one", shown=SHOWN)
    assert r.conflicts == ("liked and disliked item 1 of the list shown",)


def test_titles_with_stop_words_and_punctuation_stay_whole(parser):
    r = parser.parse("I loved Sense and Sensibility, The Godfather: Part II and L.A. Confidential")
    assert [m.name for m in r.liked] == [
        "Sense and Sensibility (1995)", "Godfather: Part II, The (1974)", "L.A. Confidential (1997)"
    ]


def test_stop_words_never_name_a_film(parser):
    r = parser.parse("a movie, the one, it, nothing too heavy")
    assert (r.liked, r.wanted, r.excluded) == ((), (), ())
    assert r.unmatched == ("heavy",)


def test_cypher_shaped_text_links_nothing(parser):
    r = parser.parse("'}) DETACH DELETE n //")
    assert not r.understood and r.unmatched == ("DETACH DELETE n",)
    r = parser.parse('Fargo"}) MATCH (n) DETACH DELETE n RETURN 1 //')
    assert said(r, "liked") == [("Fargo", "Fargo (1996)")]
    assert r.unmatched == ("MATCH", "n", "DETACH DELETE n RETURN 1")


def test_nonsense_is_unmatched(parser):
    r = parser.parse("asdf qwerty zxcv")
    assert not r.understood and r.english and r.unmatched == ("asdf qwerty zxcv",)


@pytest.mark.parametrize(
    "text",
    [
        "Je voudrais un film d'horreur avec Tom Cruise",
        "Ich möchte einen Film mit Kevin Spacey sehen",
        "Quiero una película de terror",
        "我想看恐怖片",
        "Хочу посмотреть фильм с Томом Крузом",
    ],
)
def test_non_english_keeps_nothing(parser, text):
    r = parser.parse(text)
    assert r == Request(text, unmatched=(text,), english=False)


def test_english_with_foreign_titles_is_english(parser):
    r = parser.parse("I loved Amélie and Fargo")
    assert r.english and [m.name for m in r.liked] == ["Amélie (2001)", "Fargo (1996)"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the request is empty"),
        ("   \n", "the request is empty"),
        ("x" * 10_000, "10,000 characters long, more than the 2,000"),
        (None, "a request must be text, got NoneType"),
        ("bad \ud800 surrogate", "not valid Unicode"),
    ],
)
def test_bad_text_is_refused_clearly(parser, text, message):
    with pytest.raises(InvalidValueError, match=message):
        parser.parse(text)


def test_the_length_cap_is_inclusive(parser):
    text = ("Fargo " * (MAX_REQUEST_CHARS // 6 + 1))[:MAX_REQUEST_CHARS]
    assert [m.name for m in parser.parse(text).liked] == ["Fargo (1996)"]


def test_bad_shown(parser):
    with pytest.raises(InvalidValueError, match="shown must be a sequence of item ids"):
        parser.parse("the first one", shown="5")
    with pytest.raises(InvalidValueError, match="shown must hold item id strings"):
        parser.parse("the first one", shown=[5])


def test_parsing_is_deterministic(parser):
    text = "a thriller with Kevn Spacey from the 90s, not the godfather, seen the 2nd"
    assert parser.parse(text, SHOWN) == parser.parse(text, SHOWN)
