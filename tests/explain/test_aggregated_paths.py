"""Paths through other users are evidence, not ids: one path per reason, read as "37 people who
liked it also liked ...", whose Cypher matches every user it counts."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from kgrec import NodeLabel
from kgrec.explain.explanation import Explanation
from kgrec.graph.records import NodeRef
from tests.explain.test_attribute_explanations import recommender_on
from tests.graph.graphs import users_behind

STRANGER = NodeRef(NodeLabel.USER, "stranger", "Stranger")


def shown_paths(rec):
    """``(explanation, explained path)`` for the top 10 of every user of ``rec``."""
    users = rec.snapshot.node_ids["user"]
    return [
        (r.explanation, p)
        for recs in rec.recommend_batch(users, k=10).values()
        for r in recs
        for p in r.explanation.paths
    ]


def test_no_sentence_names_another_user(store):
    """Every explanation of a small graph (users ``u0``..``u9`` and ``newbie``, who has
    attributes only): a path through other users states their number and reads the same
    whichever peer represents them, and no sentence holds a user id."""
    rec = recommender_on(store)
    shown = shown_paths(rec)
    kinds = set()
    for _, p in shown:
        assert not re.search(r"\bu\d+\b|newbie", p.sentence), p.sentence
        if p.path.peer is None:
            continue
        kinds.add(p.path.starts_with_attribute)
        assert p.path.support >= 1 and re.search(rf"\b{p.path.support}\b", p.sentence), p.sentence
        other = replace(p.path, nodes=p.path.nodes[:2] + (STRANGER,) + p.path.nodes[3:])
        assert rec.explainer.sentences.sentence(other) == p.sentence
    assert kinds == {False, True}  # liked-item and attribute aggregates both shown
    for explanation in {id(e): e for e, _ in shown}.values():
        keys = [p.path.aggregate_key() for p in explanation.paths]
        assert len(keys) == len(set(keys))  # one path per aggregate


@pytest.mark.neo4j
def test_the_cypher_of_an_aggregate_matches_every_user_it_counts(neo4j_store, neo4j_driver):
    rec = recommender_on(neo4j_store)
    snapshot = rec.snapshot
    checked = 0
    for explanation, p in shown_paths(rec):
        query, params = explanation.cypher()  # the whole explanation: one row
        assert len(neo4j_driver.execute_query(query, params).records) == 1
        if p.path.peer is None:
            continue
        one = Explanation(explanation.user_id, explanation.item_id, (p,), explanation.namespace)
        query, params = one.cypher()
        assert p.path.peer.id not in params.values()  # the peer is no parameter
        [record] = neo4j_driver.execute_query(query, params).records
        peers = {path.nodes[2]["id"] for path in record["p0"]}
        assert len(record["p0"]) == len(peers) == p.path.support
        assert peers == users_behind(snapshot, p.path) and p.path.peer.id in peers
        checked += 1
    assert checked > 10
