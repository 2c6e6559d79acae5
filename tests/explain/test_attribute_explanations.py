"""Users without interactions get explained through their attributes: "People in your age group
(25-34) liked Item 7.", on both stores, with a finite weight and no other user's id."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import replace

import pytest
import torch

from kgrec import Interaction, NodeLabel, NodeRecord, Triple
from kgrec.explain.sentences import SentenceBuilder
from kgrec.graph.records import GraphPath, NodeRef
from kgrec.models import KGRecModel, training_graph
from kgrec.recommender import Recommender
from tests.graph.graphs import random_graph
from tests.graph.test_user_attributes import with_attributes

AGE, OCCUPATION = "in_age_group", "has_occupation"
YOU = NodeRef(NodeLabel.USER, "685")
AGE_25 = NodeRef(NodeLabel.ENTITY, "age:25-34", "25-34")
PEER = NodeRef(NodeLabel.USER, "12")
FARGO = NodeRef(NodeLabel.ITEM, "100", "Fargo (1996)")
BY_AGE = GraphPath((YOU, AGE_25, PEER, FARGO), (AGE, AGE, "INTERACTED"), (True, False, True))


def newcomer_graph(store) -> None:
    """:func:`random_graph` (users u0..u9, items 0..29) plus attributes: even users are
    25-34, odd ones 35-44, every third a writer, the rest artists; every item is liked (train)
    by an even user; ``newbie``, a 25-34 writer, has no interactions."""
    random_graph(store, seed=3, users=10, items=30, entities=6)
    store.upsert_nodes("User", [NodeRecord("newbie", "a 30-year-old writer")])
    store.upsert_nodes(
        "Entity",
        [
            NodeRecord(f"age:{g}", f"age group: {g}", g) for g in ("25-34", "35-44")
        ]
        + [NodeRecord(f"occupation:{j}", f"occupation: {j}", j) for j in ("writer", "artist")],
    )
    users = [f"u{k}" for k in range(10)]
    store.upsert_interactions([Interaction(users[2 * (k % 5)], str(k)) for k in range(30)])
    store.upsert_triples(
        [Triple(u, AGE, "age:25-34" if k % 2 == 0 else "age:35-44", "User") for k, u in enumerate(users)]
        + [Triple(u, OCCUPATION, f"occupation:{'writer' if k % 3 == 0 else 'artist'}", "User") for k, u in enumerate(users)]
        + [Triple("newbie", AGE, "age:25-34", "User"), Triple("newbie", OCCUPATION, "occupation:writer", "User")]
    )


def recommender_on(store, build=newcomer_graph) -> Recommender:
    build(store)
    snapshot = store.snapshot()
    torch.manual_seed(0)
    return Recommender(KGRecModel(training_graph(snapshot), channels=8, feature_mode="id"), store, snapshot)


def test_a_user_without_interactions_gets_every_item_explained(store):
    """The acceptance test of issue #10 item 1, on each store."""
    rec = recommender_on(store)
    recs = rec.recommend("newbie", k=10)
    assert len(recs) == 10
    for r in recs:
        assert r.explanation.paths, r.item_id
        for p in r.explanation.paths:
            assert p.path.starts_with_attribute
            assert p.path.nodes[0].id == "newbie" and p.path.nodes[-1].id == r.item_id
            assert math.isfinite(p.weight)
            attribute = p.path.nodes[1].name
            assert attribute in ("25-34", "writer") and attribute in p.sentence
            assert p.sentence.endswith(f"liked Item {r.item_id}.")
            assert not re.search(r"\bu\d|newbie", p.sentence), p.sentence  # no user id
    # the explanations tell different reasons apart: both attributes show up
    assert {p.path.relations[0] for r in recs for p in r.explanation.paths} == {AGE, OCCUPATION}


@pytest.mark.neo4j
def test_both_stores_explain_a_newcomer_alike(both_stores):
    memory, neo4j = both_stores
    a, b = recommender_on(memory), recommender_on(neo4j)
    assert a.recommend("newbie", k=10) == b.recommend("newbie", k=10)


def with_erin(store) -> None:
    """:func:`with_attributes` plus Fargo, liked only by erin, a writer like alice."""
    with_attributes(store)
    store.upsert_nodes("User", [NodeRecord("erin")])
    store.upsert_nodes("Item", [NodeRecord("fargo", name="Fargo (1996)")])
    store.upsert_interactions([Interaction("erin", "fargo")])
    store.upsert_triples([Triple("erin", OCCUPATION, "occupation:writer", NodeLabel.USER)])


def test_attribute_paths_are_the_last_fallback_of_a_user_with_interactions(memory_store):
    rec = recommender_on(memory_store, with_erin)
    found = rec.candidate_paths("alice", ["blade", "fargo"])
    assert found["blade"] and not any(p.starts_with_attribute for p in found["blade"])
    assert [[n.id for n in p.nodes] for p in found["fargo"]] == [
        ["alice", "occupation:writer", "erin", "fargo"]
    ]
    fargo = rec.explain("alice", "fargo")
    assert fargo.paths[0].path == found["fargo"][0]
    assert fargo.sentence == "1 other person with your occupation (writer) liked Fargo (1996)."


def test_an_attribute_path_weighs_the_peer_term_alone(memory_store):
    """It lacks the liked-item term of the path through the same peer and view."""
    rec = recommender_on(memory_store, with_erin)
    alice = int(rec.snapshot.index_of("user", ["alice"])[0])
    fargo_row = rec.snapshot.index_of("item", ["fargo"]).tolist()
    [attribute] = rec.candidate_paths("alice", ["fargo"])["fargo"]
    ref = {n.id: n for n in attribute.nodes}
    alien = NodeRef(NodeLabel.ITEM, "alien", "Alien (1979)")
    through_alien = GraphPath(  # weighed as if erin had liked Alien too
        (ref["alice"], alien, ref["erin"], ref["fargo"]), ("INTERACTED",) * 3, (True, False, True)
    )
    attention, alpha = rec.explainer._attention(alice, ["fargo"], fargo_row)
    ranker = rec.explainer.ranker
    w_attribute, w_alien = ranker.weigh("alice", {"fargo": [attribute, through_alien]}, attention, alpha)["fargo"]
    x = ranker.embeddings["item"]
    rows = rec.snapshot.index_of("item", ["alien", "fargo"]).tolist()
    liked_term = alpha["fargo"] * float(x[rows[0]] @ x[rows[1]]) / ranker.user_degree[alice]
    assert math.isfinite(w_attribute)
    assert w_alien - w_attribute == pytest.approx(liked_term, rel=1e-5, abs=1e-7)


# -- sentences --------------------------------------------------------------------------------
def test_attribute_sentences_name_the_attribute_and_not_the_other_user():
    builder = SentenceBuilder()
    assert builder.sentence(BY_AGE) == "People in your age group (25-34) liked Fargo (1996)."
    writer = NodeRef(NodeLabel.ENTITY, "occupation:writer", "writer")
    female = NodeRef(NodeLabel.ENTITY, "gender:F", "female")
    by_job = GraphPath((YOU, writer, PEER, FARGO), (OCCUPATION, OCCUPATION, "INTERACTED"), (True, False, True))
    by_gender = GraphPath((YOU, female, PEER, FARGO), ("has_gender", "has_gender", "INTERACTED"), (True, False, True))
    assert builder.sentence(by_job) == "People with your occupation (writer) liked Fargo (1996)."
    assert builder.sentence(by_gender) == "People of your gender (female) liked Fargo (1996)."
    counted = replace(by_job, support=12)
    assert builder.sentence(counted) == "12 people with your occupation (writer) liked Fargo (1996)."
    # a custom template may use the count, or not
    numbers = SentenceBuilder(attribute_phrases={OCCUPATION: "{item}: liked by {count} {entity}s."})
    assert numbers.sentence(counted) == "Fargo (1996): liked by 12 writers."
    comedy = NodeRef(NodeLabel.ENTITY, "genre:Comedy", "Comedy")
    by_taste = GraphPath((YOU, comedy, PEER, FARGO), ("favouriteGenre", "favouriteGenre", "INTERACTED"), (True, False, True))
    assert builder.sentence(by_taste) == "People who share your favourite genre (Comedy) liked Fargo (1996)."
    custom = SentenceBuilder(attribute_phrases={AGE: "Fans aged {entity} chose {item}."})
    assert custom.sentence(BY_AGE) == "Fans aged 25-34 chose Fargo (1996)."


def test_a_generator_neither_learns_nor_needs_the_other_user(caplog):
    def rephrase(facts, sentence):
        assert "12" not in str(facts) and facts["nodes"][2] == ("User", "", "people")
        return "Fargo (1996) is popular with people aged 25-34."

    rephrased = SentenceBuilder(generator=rephrase).sentence(BY_AGE)
    assert rephrased == "Fargo (1996) is popular with people aged 25-34."
    with caplog.at_level(logging.WARNING):
        kept = SentenceBuilder(generator=lambda facts, s: "Popular with your age group.").sentence(BY_AGE)
    assert kept == SentenceBuilder().sentence(BY_AGE) and "dropped a fact" in caplog.text
