"""The request generator of benchmarks/conversation.py says only its target's true facts, never
names the target, and is deterministic per seed."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from kgrec import MemoryGraphStore, NodeLabel, NodeRecord, Triple

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "_requests.py"
_SPEC = importlib.util.spec_from_file_location("_requests", _PATH)
requests = sys.modules["_requests"] = importlib.util.module_from_spec(_SPEC)  # dataclasses look it up
_SPEC.loader.exec_module(requests)

FILMS = {  # id: (title, year, genres, [(relation, person)])
    "se7en": ("Se7en (1995)", 1995, ["Crime", "Thriller"],
              [("starring", "Kevin Spacey"), ("starring", "Brad Pitt"), ("director", "David Fincher")]),
    "suspects": ("Usual Suspects, The (1995)", 1995, ["Crime", "Thriller"],
                 [("starring", "Kevin Spacey"), ("director", "Bryan Singer"), ("musicComposer", "John Ottman")]),
    "fargo": ("Fargo (1996)", 1996, ["Crime", "Drama"],
              [("director", "Joel Coen"), ("writer", "Ethan Coen"), ("starring", "Frances McDormand (actress)")]),
    "godfather": ("Godfather, The (1972)", 1972, ["Crime", "Drama"],
                  [("starring", "Al Pacino"), ("producer", "Albert S. Ruddy"), ("cinematography", "Gordon Willis")]),
    # facts that name the film: the person "Robert Crumb" and the genre of "Thriller"
    "crumb": ("Crumb (1994)", 1994, ["Documentary"], [("starring", "Robert Crumb"), ("director", "Terry Zwigoff")]),
    "thriller": ("Thriller (1983)", 1983, ["Thriller", "Horror"], [("director", "John Landis")]),
    "bare": ("Bare (1990)", None, ["unknown"], [("distributor", "Some Studio"), ("sequel", "Other Person")]),
}


@pytest.fixture(scope="module")
def store() -> MemoryGraphStore:
    store = MemoryGraphStore()
    people = sorted({p for _, _, _, links in FILMS.values() for _, p in links})
    genres = sorted({g for _, _, gs, _ in FILMS.values() for g in gs})
    store.upsert_nodes(
        "Item",
        [NodeRecord(i, name=t, properties={"year": y} if y else {}) for i, (t, y, _, _) in FILMS.items()],
    )
    store.upsert_nodes(
        "Entity",
        [NodeRecord(f"p:{p}", name=p) for p in people] + [NodeRecord(f"genre:{g}", name=g) for g in genres],
    )
    store.upsert_triples(
        [Triple(i, "has_genre", f"genre:{g}", NodeLabel.ITEM) for i, (_, _, gs, _) in FILMS.items() for g in gs]
        + [Triple(i, r, f"p:{p}", NodeLabel.ITEM) for i, (_, _, _, links) in FILMS.items() for r, p in links]
    )
    return store


def generator(store: MemoryGraphStore, seed: int):
    snapshot = store.snapshot()
    titles = dict(zip(snapshot.node_ids["item"], snapshot.node_name["item"]))
    return requests.RequestGenerator(requests.item_facts(store, snapshot), titles, seed)


def all_texts(gen) -> dict[tuple, object]:
    """Every request (n = 1..4) and follow-up (1..3) of every film."""
    out = {}
    for item in FILMS:
        for n in range(1, 5):
            out[item, "request", n] = gen.request(item, n)
        for k in range(1, 4):
            out[item, "follow-up", k] = gen.follow_up(item, k)
    return out


def decades_said(text: str) -> set[int]:
    """The decades a text names: "90s", "1990s", "nineties", or a year."""
    words = {"twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950,
             "sixties": 1960, "seventies": 1970, "eighties": 1980, "nineties": 1990}
    found = {int(m) // 10 * 10 for m in re.findall(r"\b(1[89][0-9]{2})s?\b", text)}
    found |= {1900 + int(m) for m in re.findall(r"\b([0-9]0)s\b", text)}
    return found | {d for w, d in words.items() if w in text.lower()}


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_says_only_the_targets_true_facts(store, seed):
    names = {n.name: n.id for n in store.get_nodes("Entity", [f"p:{p}" for _, _, _, ls in FILMS.values() for _, p in ls])}
    spoken = {requests.spoken_name(name): eid for name, eid in names.items()}
    for (item, _, _), request in all_texts(generator(store, seed)).items():
        if request is None:
            continue
        [record] = store.get_nodes("Item", [item])
        linked = {(n.relation, n.node.id) for n in store.neighbours("Item", item)}
        for fact in request.facts:
            if fact.relation == requests.YEAR:
                assert fact.value == record.properties["year"]
            else:
                assert (fact.relation, fact.value) in linked, (item, fact)
        # every person the text names is one of the facts said, and so is every decade
        said_people = {eid for name, eid in spoken.items() if name in request.text}
        assert said_people == {f.value for f in request.facts if f.relation not in ("has_genre", "year")}
        years = [f.value for f in request.facts if f.relation == requests.YEAR]
        assert decades_said(request.text) == {y // 10 * 10 for y in years}, request.text
        assert "(" not in request.text  # "Frances McDormand (actress)" is said "Frances McDormand"


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_never_names_the_target(store, seed):
    gen = generator(store, seed)
    for (item, _, _), request in all_texts(gen).items():
        if request is not None:
            title = re.sub(r",? ?(The)? \(\d{4}\)$", "", FILMS[item][0]).lower()
            assert not re.search(rf"\b{re.escape(title)}\b", request.text.lower()), request.text
    # the facts that would name the film are never told
    assert {f.name for f in gen.facts("crumb")} == {"Documentary", "Terry Zwigoff", "1994"}
    assert {f.name for f in gen.facts("thriller")} == {"Horror", "John Landis", "1983"}


def test_leaves_out_unsayable_facts(store):
    gen = generator(store, 0)
    # genre "unknown", a relation without a phrasing and a missing year are not facts
    assert [f.name for f in gen.facts("bare")] == ["Some Studio"]
    assert gen.request("bare", 1) is not None and gen.request("bare", 2) is None
    assert gen.follow_up("bare", 1) is None


def test_is_deterministic_per_seed(store):
    first, again = all_texts(generator(store, 7)), all_texts(generator(store, 7))
    assert {k: r and r.text for k, r in first.items()} == {k: r and r.text for k, r in again.items()}
    # a draw does not depend on what was drawn before it
    gen = generator(store, 7)
    assert gen.request("fargo", 3).text == first["fargo", "request", 3].text
    others = [all_texts(generator(store, seed)) for seed in (8, 9)]
    assert any(
        {k: r and r.text for k, r in other.items()} != {k: r and r.text for k, r in first.items()}
        for other in others
    )


def test_requests_grow_by_one_fact_in_a_fixed_order(store):
    gen = generator(store, 3)
    order = gen.facts("se7en")
    assert sorted(order, key=repr) == sorted(requests.item_facts(store)["se7en"], key=repr)
    for n in (1, 2, 3):
        assert list(gen.request("se7en", n).facts) == order[:n]
    assert list(gen.follow_up("se7en", 2).facts) == [order[2]]
