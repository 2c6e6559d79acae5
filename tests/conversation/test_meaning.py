"""Linking by meaning through the store's vector index: the same answers on both stores, and
parsing never writes."""

from __future__ import annotations

import numpy as np
import pytest

from kgrec import InvalidValueError, KgrecError, NodeRecord
from kgrec.conversation import EntityLinker, MeaningSearch, RequestParser
from kgrec.graph.schema import vector_index_name
from kgrec.text import node_text_vectors

from .conftest import TrigramEncoder, said
from .films import film_graph

PHRASES = ["kubrick", "pacino", "sigourney", "crime genre", "hanks", "zzz", "DETACH DELETE n"]
REQUEST = "movies by kubrick or with pacino, no sigourney; '}) DETACH DELETE n //"


def meaning_linker(store) -> EntityLinker:
    film_graph(store)
    return EntityLinker.from_store(store, encoder=TrigramEncoder())


def test_meaning_tier(memory_store):
    linker = meaning_linker(memory_store)
    kubrick = linker.link("kubrick")
    assert (kubrick.name, kubrick.how, kubrick.relations) == ("Stanley Kubrick", "meaning", ("director",))
    assert 0.83 <= kubrick.score <= 1
    assert linker.link("hanks") is None  # 0.81: below the threshold
    r = RequestParser(linker).parse(REQUEST)
    assert said(r, "wanted") == [("kubrick", "Stanley Kubrick"), ("pacino", "Al Pacino")]
    assert said(r, "excluded") == [("sigourney", "Sigourney Weaver")]
    assert r.unmatched == ("DETACH DELETE n",)


@pytest.mark.neo4j
def test_meaning_parity_and_parsing_writes_nothing(both_stores):
    memory, neo4j = both_stores
    linkers = [meaning_linker(store) for store in (memory, neo4j)]
    for phrase in PHRASES:
        hits = [linker.meaning.nearest(phrase, 3) for linker in linkers]
        assert hits[0] == hits[1], phrase  # same nodes, same exact scores
        assert linkers[0].link(phrase) == linkers[1].link(phrase)
    parsed = [RequestParser(linker).parse(REQUEST) for linker in linkers]
    assert parsed[0] == parsed[1]

    before, stats = neo4j.snapshot(), neo4j.stats()
    vectors = neo4j.read_embeddings("Entity", ["genre:Horror"], property="embedding_text")
    parser = RequestParser(linkers[1])
    for text in ("MATCH (n) DETACH DELETE n", "'}) CALL db.clearQueryCaches() //",
                 "Je voudrais un film d'horreur", "I want horror but no horror"):
        parser.parse(text)
    for text in ("", "x" * 10_000):
        with pytest.raises(InvalidValueError):
            parser.parse(text)
    assert neo4j.stats() == stats
    assert neo4j.snapshot().equals(before)
    assert np.array_equal(neo4j.read_embeddings("Entity", ["genre:Horror"], property="embedding_text"), vectors)


def test_index_from_precomputed_vectors(memory_store):
    film_graph(memory_store)
    snapshot = memory_store.snapshot()
    encoder = TrigramEncoder()
    search = MeaningSearch(memory_store, encoder)
    assert search.index(snapshot, node_text_vectors(snapshot, encoder)) == len(snapshot.node_ids["entity"])
    assert search.best("kubrick").id == "person:stanley_kubrick"
    with pytest.raises(InvalidValueError, match=r"vectors\['entity'\] must be a \[45, d\] tensor"):
        search.index(snapshot, {"entity": None})


def test_meaning_search_arguments(memory_store):
    with pytest.raises(InvalidValueError, match="labels must be items and/or entities"):
        MeaningSearch(memory_store, TrigramEncoder(), labels=["User"])
    with pytest.raises(InvalidValueError, match="threshold must be a number in"):
        MeaningSearch(memory_store, TrigramEncoder(), threshold=2)
    film_graph(memory_store)
    with pytest.raises(KgrecError, match="no vector index named 'entity_embedding_text'"):
        MeaningSearch(memory_store, TrigramEncoder()).best("kubrick")  # not indexed yet


def test_a_text_vector_index_beside_the_model_one(store):
    """One vector index per (label, property): ``item_embedding`` stays what it was."""
    ids = ["1", "2", "3"]
    store.upsert_nodes("Item", [NodeRecord(i) for i in ids])
    store.write_embeddings("Item", ids, np.eye(3, 4, dtype=np.float32))
    store.write_embeddings("Item", ids, np.array([[0, 1], [1, 0], [0.7, 0.7]], dtype=np.float32), property="embedding_text")
    assert store.create_vector_index("Item", 4, replace=True) == vector_index_name("Item") == "item_embedding"
    assert store.create_vector_index("Item", 2, property="embedding_text", replace=True) == "item_embedding_text"
    assert store.query_vector_index("Item", np.eye(4)[1], k=1)[0][0] == "2"
    assert store.query_vector_index("Item", np.array([1.0, 0.1]), k=1, property="embedding_text")[0][0] == "2"
