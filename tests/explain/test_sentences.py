"""Sentences read like the paths they describe, and a generator may only rephrase them."""

from __future__ import annotations

import logging
from dataclasses import replace

from kgrec.explain.sentences import RelationPhrase, SentenceBuilder
from kgrec.graph.records import GraphPath, NodeRef
from kgrec.graph.schema import NodeLabel

YOU = NodeRef(NodeLabel.USER, "alice")
ALIEN = NodeRef(NodeLabel.ITEM, "alien", "Alien (1979)")
BLADE = NodeRef(NodeLabel.ITEM, "blade", "Blade Runner (1982)")
RIDLEY = NodeRef(NodeLabel.ENTITY, "ridley", "Ridley Scott")
BOB = NodeRef(NodeLabel.USER, "bob", "Bob")

DIRECTED = GraphPath((YOU, ALIEN, RIDLEY, BLADE), ("INTERACTED", "director", "director"), (True, True, False))
CO_USER = GraphPath((YOU, ALIEN, BOB, BLADE), ("INTERACTED",) * 3, (True, False, True))


def test_director_template():
    assert SentenceBuilder().sentence(DIRECTED) == (
        "Because you liked Alien (1979), directed by Ridley Scott, "
        "who also directed Blade Runner (1982)."
    )


def test_co_user_template_counts_the_people_and_never_names_the_peer():
    builder = SentenceBuilder()
    counted = {n: builder.sentence(replace(CO_USER, support=n)) for n in (37, 1, None)}
    assert counted == {
        37: "Because you liked Alien (1979): 37 people who liked it also liked Blade Runner (1982).",
        1: "Because you liked Alien (1979): 1 other person who liked it also liked Blade Runner (1982).",
        None: "Because you liked Alien (1979): people who liked it also liked Blade Runner (1982).",
    }
    unnamed = replace(CO_USER, nodes=(YOU, ALIEN, NodeRef(NodeLabel.USER, "889"), BLADE), support=2)
    assert "889" not in builder.sentence(unnamed)


def test_a_generator_gets_the_count_not_the_peer_and_need_not_name_it():
    seen = {}

    def rephrase(facts, sentence):
        seen.update(facts)
        return "37 fans of Alien (1979) went on to Blade Runner (1982)."

    path = replace(CO_USER, support=37)
    assert SentenceBuilder(generator=rephrase).sentence(path).startswith("37 fans")
    assert seen["nodes"][2] == ("User", "", "37 people") and "bob" not in str(seen).lower()


def test_unknown_relation_and_missing_name_fall_back_readably():
    unnamed = NodeRef(NodeLabel.ENTITY, "Q42")
    path = GraphPath((YOU, ALIEN, unnamed, BLADE), ("INTERACTED", "basedOnNovel", "basedOnNovel"), (True, True, False))
    sentence = SentenceBuilder().sentence(path)
    assert "entity Q42" in sentence and "based on novel" in sentence
    custom = SentenceBuilder({"basedOnNovel": RelationPhrase("based on {entity}", "also inspired")})
    assert custom.sentence(path) == "Because you liked Alien (1979), based on entity Q42, who also inspired Blade Runner (1982)."


def test_generator_receives_only_facts_and_may_only_rephrase(caplog):
    seen = {}

    def faithful(facts, sentence):
        seen.update(facts)
        return f"You enjoyed Alien (1979); Ridley Scott directed it and Blade Runner (1982) too."

    assert SentenceBuilder(generator=faithful).sentence(DIRECTED).startswith("You enjoyed")
    assert seen["nodes"][2] == ("Entity", "ridley", "Ridley Scott")
    assert seen["relations"][2] == ("director", "backward")

    def inventive(facts, sentence):
        return "Because you liked Alien, you will love Prometheus."  # drops facts, adds one

    with caplog.at_level(logging.WARNING):
        assert SentenceBuilder(generator=inventive).sentence(DIRECTED) == SentenceBuilder().sentence(DIRECTED)
    assert "dropped a fact" in caplog.text
