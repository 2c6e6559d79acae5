"""A Neo4j server that is down, or that refuses the credentials, gives kgrec's
StoreUnavailableError within seconds (defect 8 of issue #9); an old server is refused at
connect (defect 10)."""

from __future__ import annotations

import time
import traceback

import neo4j.exceptions
import pytest

from kgrec import Interaction, KgrecError, Neo4jGraphStore
from kgrec.errors import StoreUnavailableError
from kgrec.graph.neo4j_server import check_server_version, parse_server_version, reaching
from tests.graph.graphs import toy_graph

#: What "fails fast" means here: the connect() defaults give about 5-10 s.
BOUND_SECONDS = 15


def refused(call, *match: str) -> StoreUnavailableError:
    start = time.monotonic()
    with pytest.raises(StoreUnavailableError) as caught:
        call()
    assert time.monotonic() - start < BOUND_SECONDS
    for text in match:
        assert text in str(caught.value)
    return caught.value


@pytest.mark.neo4j
def test_wrong_credentials_are_refused_without_echoing_them(neo4j_auth_server):
    server = neo4j_auth_server
    for auth in (("neo4j", "not-the-password-42"), ("nobody", server.password), None):
        error = refused(
            lambda: Neo4jGraphStore.connect(server.uri, auth=auth), server.uri, "refused the credentials"
        )
        shown = "".join(traceback.format_exception(error))
        assert "not-the-password-42" not in shown and server.password not in shown
    with Neo4jGraphStore.connect(server.uri, auth=("neo4j", server.password)) as store:
        toy_graph(store)
        assert store.stats().nodes == {"User": 2, "Item": 4, "Entity": 2}
        assert store.server_version >= (5, 24)
        store.clear()


@pytest.mark.neo4j
def test_a_server_outage_raises_fast_and_the_store_works_again(neo4j_auth_server):
    server = neo4j_auth_server
    auth = ("neo4j", server.password)
    with Neo4jGraphStore.connect(server.uri, auth=auth) as store:
        store.clear()
        toy_graph(store)
        before = store.snapshot()
        server.stop()
        try:
            refused(store.stats, server.uri, "cannot reach")
            refused(lambda: store.upsert_interactions([Interaction("bob", "dune")]), server.uri)
            refused(lambda: Neo4jGraphStore.connect(server.uri, auth=auth), server.uri)
        finally:
            server.start()
        assert store.snapshot().equals(before)  # the same store object, reconnected
        store.upsert_interactions([Interaction("bob", "dune")])
        assert store.stats().relationships["INTERACTED"] == 5
        store.clear()


@pytest.mark.parametrize(
    "version, parsed",
    [("5.26.30", (5, 26, 30)), ("5.24.0", (5, 24, 0)), ("2025.01.0", (2025, 1, 0)), ("5.27.0-aura", (5, 27, 0))],
)
def test_supported_server_versions(version, parsed):
    assert parse_server_version(version) == parsed
    assert check_server_version(version) == parsed


@pytest.mark.parametrize("version", ["5.23.0", "5.9.0", "4.4.30", "5"])
def test_old_servers_are_refused(version):
    with pytest.raises(KgrecError, match=rf"Neo4j '{version}' is too old: .* needs Neo4j 5\.24 or newer"):
        check_server_version(version)


@pytest.mark.parametrize("version", ["", "dev", None, "x" * 10_000])
def test_unreadable_versions_are_refused(version):
    with pytest.raises(KgrecError, match="cannot read the Neo4j server version") as caught:
        parse_server_version(version)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    "raised, says",
    [
        (neo4j.exceptions.IncompleteCommit("commit lost"), "whether the last batch was written is unknown"),
        (neo4j.exceptions.ServiceUnavailable("no route"), "cannot reach Neo4j at bolt://db:7687: no route"),
        (neo4j.exceptions.SessionExpired("gone"), "cannot reach Neo4j at bolt://db:7687"),
        (ConnectionResetError("reset by peer"), "cannot reach Neo4j at bolt://db:7687"),
        (neo4j.exceptions.AuthError("unauthorized"), "bolt://db:7687 refused the credentials"),
    ],
)
def test_driver_failures_become_store_unavailable(raised, says):
    with pytest.raises(StoreUnavailableError, match=says) as caught:
        with reaching("bolt://db:7687"):
            raise raised
    assert caught.value.__cause__ is raised
    if isinstance(raised, neo4j.exceptions.IncompleteCommit):
        assert "Re-running the load is safe (loads are idempotent)" in str(caught.value)
