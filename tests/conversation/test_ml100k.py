"""Linking and parsing on the real ml100k names (1,682 films, 6,303 DBpedia and genre entities)."""

from __future__ import annotations

import random

import pytest

from kgrec import MemoryGraphStore
from kgrec.conversation import EntityLinker, RequestParser
from kgrec.conversation.words import words
from kgrec.loaders import load_movielens100k

from .conftest import said

pytestmark = pytest.mark.shared_data

DBR = "http://dbpedia.org/resource/"


@pytest.fixture(scope="module")
def ml100k(shared_data) -> EntityLinker:
    store = MemoryGraphStore()
    load_movielens100k(
        store, shared_data / "movielens-100k", kg_dir=shared_data / "movielens-dbpedia-kg"
    )
    return EntityLinker(store.snapshot())


@pytest.mark.parametrize(
    ("phrase", "node", "how"),
    [
        ("Kevin Spacey", DBR + "Kevin_Spacey", "exact"),
        ("Kevn Spacey", DBR + "Kevin_Spacey", "fuzzy"),
        ("Godfather", "127", "normalized"),  # Godfather, The (1972)
        ("godfather part ii", "187", "normalized"),
        ("Godfater", "127", "fuzzy"),
        ("fargo", "100", "normalized"),
        ("the usual suspects", "12", "normalized"),
        ("Se7en", "11", "normalized"),
        ("silense of the lambs", "98", "fuzzy"),
        ("Schindlers List", "318", "normalized"),
        ("thriller", "genre:Thriller", "normalized"),
        ("sci-fi", "genre:Sci-Fi", "normalized"),
        ("scary", "genre:Horror", "alias"),
    ],
)
def test_real_names(ml100k, phrase, node, how):
    mention = ml100k.link(phrase)
    assert (mention.id, mention.how) == (node, how)


def test_what_stays_unlinked(ml100k):
    for phrase in ("the", "a", "it", "movie", "nothing too heavy", "great acting", "student"):
        assert ml100k.link(phrase) is None, phrase
    assert ml100k.link("Kevin Spacey").relations == ("director", "starring")


def test_a_request(ml100k):
    r = RequestParser(ml100k).parse(
        "a thriller with Kevn Spacey from the 90s, not Tom Cruise; I've seen Se7en and loved it"
    )
    assert said(r, "wanted") == [("thriller", "Thriller"), ("Kevn Spacey", "Kevin Spacey")]
    assert said(r, "excluded") == [("Tom Cruise", "Tom Cruise")]
    assert said(r, "seen") == said(r, "liked") == [("Se7en", "Seven (Se7en) (1995)")]
    assert (r.years, r.unmatched, r.conflicts) == ((1990, 1999), (), ())


def test_the_fuzzy_threshold(ml100k):
    """One typo in a name of 8+ letters links the right node (FUZZY_THRESHOLD's measurement);
    request phrases that are no name do not link."""
    rng = random.Random(0)
    keys = sorted(k for k in ml100k._keys if len(k) >= 8 and not k[-1].isdigit())
    wrong = right = 0
    sample = rng.sample(keys, 400)
    typos = []
    for key in sample:
        i = rng.randrange(len(key))
        typos.append(key[:i] + key[i + 1 :] if rng.random() < 0.5 else key[:i] + "x" + key[i + 1 :])
    found = ml100k.match_spellings([(t, words(t)) for t in typos])
    for key, typo, mention in zip(sample, typos, found):
        if typo in ml100k._keys or mention is None:
            continue
        ok = mention.id in {n.id for n in ml100k._keys[key]}
        right, wrong = right + ok, wrong + (not ok)
    assert right >= 0.97 * len(sample) and wrong <= 4
    phrases = ["great acting", "serial killer", "twist ending", "time travel", "road trip",
               "haunted house", "car chases", "martial arts", "bank robbery", "vacation", "snakes"]
    assert [p for p, m in zip(phrases, ml100k.match_spellings([(p, words(p)) for p in phrases])) if m] == []
