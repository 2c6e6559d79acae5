"""Sentences read like the paths they describe, and a generator may only rephrase them."""

from __future__ import annotations

import logging

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


def test_co_user_template_names_the_other_user():
    sentence = SentenceBuilder().sentence(CO_USER)
    assert sentence.startswith("Because you liked Alien (1979)")
    assert "Bob" in sentence and sentence.endswith("liked Blade Runner (1982).")


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
