"""GraphStore.request_candidates: a conversational request narrows the items, with the same
answer on both stores (issue #11, item 3)."""

from __future__ import annotations

import random

import pytest

from kgrec import Interaction, NodeRecord, Triple
from kgrec.errors import InvalidNameError, InvalidValueError, UnknownIdError
from kgrec.graph import CandidateQuery, RequestCandidate
from tests.graph.graphs import RELATIONS, random_graph, toy_graph


def films(store) -> None:
    """Eight films, five entities, two users::

        1 (1994), 2 (2000), 40 (no year) -[director]-> nolan
        2, 20 ("1999"), 40, 50 (True) -[has_genre]-> scifi -[subgenre_of]-> drama
        10 (1999) -[has_genre]-> drama
        3 (2010) -[sequel_of]-> 2          30 (1999.0) -[has_genre]-> horror
        u1 -> 1, 30 and u2 -> 3 (interactions); u1, u2 -[has_occupation]-> writer
    """
    years = {"1": 1994, "2": 2000, "3": 2010, "10": 1999, "20": "1999", "30": 1999.0, "50": True}
    store.upsert_nodes(
        "Item",
        [NodeRecord(i, properties={"year": y}) for i, y in years.items()] + [NodeRecord("40")],
    )
    entities = ["nolan", "scifi", "drama", "horror", "writer"]
    store.upsert_nodes("Entity", [NodeRecord(e) for e in entities])
    store.upsert_nodes("User", [NodeRecord("u1"), NodeRecord("u2")])
    played = [("u1", "1"), ("u1", "30"), ("u2", "3")]
    store.upsert_interactions([Interaction(u, i) for u, i in played])
    store.upsert_triples(
        [Triple(i, "director", "nolan", "Item") for i in ["1", "2", "40"]]
        + [Triple(i, "has_genre", "scifi", "Item") for i in ["2", "20", "40", "50"]]
        + [
            Triple("scifi", "subgenre_of", "drama"),
            Triple("10", "has_genre", "drama", "Item"),
            Triple("3", "sequel_of", "2", "Item", "Item"),
            Triple("30", "has_genre", "horror", "Item"),
            Triple("u1", "has_occupation", "writer", "User"),
            Triple("u2", "has_occupation", "writer", "User"),
        ]
    )


def ask(store, **request) -> list[tuple]:
    """``(item, entities, items)`` per candidate, in order."""
    found = store.request_candidates(CandidateQuery.checked(**request))
    return [(c.item, c.entities, c.items) for c in found]


def test_entities_match_within_two_hops_ordered_by_matches_hops_and_id(store):
    films(store)
    assert ask(store, entities=["nolan", "scifi"]) == [
        ("2", (("nolan", 1), ("scifi", 1)), ()),
        ("40", (("nolan", 1), ("scifi", 1)), ()),  # "2" < "40": ids in id_order
        ("3", (("nolan", 2), ("scifi", 2)), ()),  # through the item 2
        ("1", (("nolan", 1),), ()),
        ("20", (("scifi", 1),), ()),
        ("50", (("scifi", 1),), ()),
        ("10", (("scifi", 2),), ()),  # through the entity drama
    ]
    # matched entities come in request order, whatever the ranking
    first = ask(store, entities=["scifi", "nolan"], limit=1)
    assert first == [("2", (("scifi", 1), ("nolan", 1)), ())]
    assert [c[0] for c in ask(store, entities=["nolan", "scifi"], limit=4)] == ["2", "40", "3", "1"]


def test_liked_items_match_through_a_common_neighbour_and_are_never_candidates(store):
    films(store)
    assert ask(store, items=["2"]) == [(i, (), ("2",)) for i in ["1", "20", "40", "50"]]
    # interactions never match: u1 played 1 and 30, but 30 shares no KG neighbour with 1
    assert ask(store, items=["1"]) == [("2", (), ("1",)), ("40", (), ("1",))]
    assert ask(store, items=["1", "2"], entities=["nolan"]) == [
        ("40", (("nolan", 1),), ("1", "2")),
        ("3", (("nolan", 2),), ()),
        ("20", (), ("2",)),
        ("50", (), ("2",)),
    ]


def test_users_and_interactions_are_never_hops(store):
    films(store)
    assert ask(store, entities=["writer"]) == []  # only users link to it
    assert ask(store, entities=["horror"]) == [("30", (("horror", 1),), ())]


def test_constraints(store):
    films(store)
    everything = ["1", "2", "3", "10", "20", "30", "40", "50"]
    assert [c[0] for c in ask(store)] == everything
    assert all(c[1:] == ((), ()) for c in ask(store))
    # only int years count once a bound is set: "1999", 1999.0 and True do not
    assert [c[0] for c in ask(store, years=(1995, 2005))] == ["2", "10"]
    assert [c[0] for c in ask(store, years=(None, 1999))] == ["1", "10"]
    assert [c[0] for c in ask(store, years=(2000, 2000))] == ["2"]
    assert [c[0] for c in ask(store, required=["nolan"])] == ["1", "2", "40"]
    assert [c[0] for c in ask(store, required=["nolan", "scifi"])] == ["2", "40"]
    assert [c[0] for c in ask(store, required=["nolan"], excluded_entities=["scifi"])] == ["1"]
    assert [c[0] for c in ask(store, required=["nolan"], excluded_items=["1", "40"])] == ["2"]
    # constraints check every KG relation, also when matching uses fewer
    assert [c[0] for c in ask(store, entities=["nolan"], excluded_entities=["scifi"])] == ["1", "3"]
    genres = ["has_genre", "subgenre_of"]
    assert ask(store, entities=["drama"], required=["nolan"], relations=genres) == [
        ("2", (("drama", 2),), ()),
        ("40", (("drama", 2),), ()),
    ]
    found = ask(store, entities=["scifi"], excluded_items=["2"], years=(1990, None))
    assert [c[0] for c in found] == ["3", "10"]


def test_relations_restrict_matching(store):
    films(store)
    assert ask(store, entities=["scifi"], relations=["director"]) == []
    assert ask(store, entities=["scifi"], relations=["has_genre", "subgenre_of"]) == [
        ("2", (("scifi", 1),), ()),
        ("20", (("scifi", 1),), ()),
        ("40", (("scifi", 1),), ()),
        ("50", (("scifi", 1),), ()),
        ("10", (("scifi", 2),), ()),
    ]
    assert ask(store, items=["2"], relations=["director"]) == [(i, (), ("2",)) for i in ["1", "40"]]


def test_the_sort_key():
    a = RequestCandidate("10", (("e", 2),), ("x",))
    b = RequestCandidate("2", (("e", 1), ("f", 1)))
    c = RequestCandidate("9", (("e", 1),), ("x",))
    assert (a.hops, b.hops, c.hops) == (4, 2, 3)
    assert sorted([a, b, c], key=RequestCandidate.sort_key) == [b, c, a]


@pytest.mark.parametrize(
    ("request_", "label", "ids"),
    [
        (dict(entities=["nolan", "nobody", "ghost"]), "Entity", ["ghost", "nobody"]),
        (dict(items=["404"]), "Item", ["404"]),
        (dict(required=["x"]), "Entity", ["x"]),
        (dict(excluded_entities=["y"]), "Entity", ["y"]),
        (dict(excluded_items=["1", "z"]), "Item", ["z"]),
        (dict(entities=["scifi"], items=["2"], excluded_items=["2", "2b"]), "Item", ["2b"]),
    ],
)
def test_unknown_ids_are_named(store, request_, label, ids):
    films(store)
    with pytest.raises(UnknownIdError, match=f"unknown {label} id") as raised:
        store.request_candidates(CandidateQuery.checked(**request_))
    assert raised.value.ids == ids


def test_cypher_shaped_ids_and_names_change_nothing(store):
    toy_graph(store)
    before = store.snapshot()
    hostile = "'}) DETACH DELETE n //"
    for request in (dict(entities=[hostile]), dict(items=[hostile]), dict(required=[hostile])):
        with pytest.raises(UnknownIdError):
            store.request_candidates(CandidateQuery.checked(**request))
    for name in ("x]-() DETACH DELETE n //", "a`b", "INTERACTED"):
        with pytest.raises(InvalidNameError):
            CandidateQuery.checked(entities=["scifi"], relations=[name])
    assert store.snapshot().equals(before)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (dict(entities="scifi"), "entities must be a collection of id strings"),
        (dict(items=[1]), "items must hold id strings"),
        (dict(required=None), "required must be a collection"),
        (dict(years=(2000,)), "years must be a"),
        (dict(years="1990s"), "years must be a"),
        (dict(years=(1990.5, None)), "years low bound must be an int"),
        (dict(years=(None, True)), "years high bound must be an int"),
        (dict(years=(2000, 1990)), "low bound 2000 is above the high bound 1990"),
        (dict(relations="director"), "relations must be relation names or None"),
        (dict(relations=[]), "at least one relation"),
        (dict(limit=0), "limit must be"),
        (dict(limit=2**63), "limit must be"),
    ],
)
def test_bad_requests_are_refused(request_, message):
    with pytest.raises(InvalidValueError, match=message):
        CandidateQuery.checked(**request_)


def test_queries_are_normalized_and_checked_again_by_the_store(memory_store):
    query = CandidateQuery.checked(
        entities=iter(["b", "a", "b"]), relations={"starring", "director"}, years=[1990, None]
    )
    assert query.entities == ("b", "a")
    assert (query.relations, query.years) == (("director", "starring"), (1990, None))
    with pytest.raises(InvalidValueError, match="limit"):
        memory_store.request_candidates(CandidateQuery(limit=-1))
    with pytest.raises(InvalidValueError, match="expected a CandidateQuery"):
        memory_store.request_candidates({"entities": ["a"]})


# -- parity -------------------------------------------------------------------------------------


def random_request(rng: random.Random, items: list[str], entities: list[str]) -> CandidateQuery:
    def some(pool: list[str], most: int) -> list[str]:
        return rng.sample(pool, rng.randint(0, most))

    low = rng.choice([None, None, 1950, 1980])
    return CandidateQuery.checked(
        entities=some(entities, 3),
        items=some(items, 2),
        required=some(entities, 1),
        excluded_entities=some(entities, 1),
        excluded_items=some(items, 2),
        years=(low, rng.choice([None, None, 2000])),
        relations=rng.choice([None, None, RELATIONS, ["has_genre", "part_of", "sequel_of"]]),
        limit=rng.choice([1000, 5, 1]),
    )


def seeded_graph(store, seed: int) -> None:
    """:func:`random_graph` with years of every kind and user attributes."""
    random_graph(store, seed)
    rng = random.Random(seed)
    years = [rng.choice([None, 1970, 1985, 1999, 2005, "1990", 1990.0]) for _ in range(20)]
    store.upsert_nodes(
        "Item",
        [NodeRecord(str(k), properties={"year": y}) for k, y in enumerate(years) if y is not None],
    )
    store.upsert_triples([Triple(f"u{u}", "has_genre", f"e{u % 8}", "User") for u in range(6)])


@pytest.mark.neo4j
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_same_candidates_on_both_stores(both_stores, seed):
    for store in both_stores:
        seeded_graph(store, seed)
    memory, neo4j = both_stores
    snap = memory.snapshot()
    items, entities = snap.node_ids["item"], snap.node_ids["entity"]
    rng = random.Random(seed)
    matched = 0
    for _ in range(25):
        query = random_request(rng, items, entities)
        want = memory.request_candidates(query)
        assert want == neo4j.request_candidates(query), query
        matched += sum(len(c.entities) + len(c.items) for c in want)
    assert matched > 50


@pytest.mark.neo4j
def test_same_candidates_on_the_small_graphs(both_stores):
    memory, neo4j = both_stores
    for build in (films, toy_graph):
        for store in both_stores:
            store.clear()
            build(store)
        snap = memory.snapshot()
        entities, items = snap.node_ids["entity"], snap.node_ids["item"]
        requests = [dict(entities=[e]) for e in entities] + [dict(items=[i]) for i in items]
        requests += [dict(entities=entities, items=items[:2], limit=3), dict(years=(1980, None))]
        for request in requests:
            query = CandidateQuery.checked(**request)
            assert memory.request_candidates(query) == neo4j.request_candidates(query), request
