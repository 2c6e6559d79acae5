"""The service on Neo4j: the same answers as on the embedded store, a 503 problem within the
configured timeout while the server is down, and recovery by itself when it is back."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from kgrec import Neo4jGraphStore
from kgrec.service import Settings, create_app
from tests.cold_start.conftest import load_films
from tests.service.conftest import KEY
from tests.service.test_service import WRITE, assert_problem

pytestmark = pytest.mark.neo4j

NAMESPACE = "ServiceTest"
#: KGREC_NEO4J_TIMEOUT in these tests (seconds), and the slack allowed over it.
TIMEOUT = 2.0
SLACK = 1.0


@pytest.fixture
def neo4j_service(checkpoint, neo4j_auth_server):
    """``start()``: a started test client of the service on the auth server (the films in
    namespace ``ServiceTest``); the server is up again and the namespace cleared after."""
    server = neo4j_auth_server
    auth = ("neo4j", server.password)
    with Neo4jGraphStore.connect(server.uri, auth=auth, namespace=NAMESPACE) as store:
        store.clear()
        load_films(store)
    settings = Settings(store="neo4j", checkpoint=checkpoint, neo4j_uri=server.uri, neo4j_password=server.password,
                        neo4j_namespace=NAMESPACE, neo4j_timeout=TIMEOUT, api_keys=KEY)
    clients = []

    def start() -> TestClient:
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        clients.append(client.__enter__())
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)
    if "cannot reach" in _health(server):
        server.start()
    with Neo4jGraphStore.connect(server.uri, auth=auth, namespace=NAMESPACE) as store:
        store.clear()


def _health(server) -> str:
    try:
        Neo4jGraphStore.connect(server.uri, auth=("neo4j", server.password), namespace=NAMESPACE).close()
    except Exception as exc:  # noqa: BLE001 - any failure means the server is down
        return str(exc)
    return "up"


def recovered(client, seconds: float = 30) -> dict:
    """``/health`` once it is 200, polled for up to ``seconds``: the service recovers by itself,
    though a request right after the server came back may still find it warming up."""
    deadline = time.monotonic() + seconds
    while (response := client.get("/health")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    return response.json()


def timed(call):
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def test_neo4j_answers_as_the_embedded_store_does(neo4j_service, service):
    on_neo4j, embedded = neo4j_service(), service()
    assert on_neo4j.get("/health").json()["store"] == "neo4j"
    for user in ("s_u0", "d_u3"):
        a = on_neo4j.get(f"/users/{user}/recommendations", params={"k": 5}).json()["items"]
        b = embedded.get(f"/users/{user}/recommendations", params={"k": 5}).json()["items"]
        assert [r["item_id"] for r in a] == [r["item_id"] for r in b]
        assert [[p["nodes"] for p in r["explanation"]["paths"]] for r in a] == [
            [p["nodes"] for p in r["explanation"]["paths"]] for r in b
        ]
    assert on_neo4j.post("/users", json={"id": "fan", "liked": ["s1", "s2"]}, headers=WRITE).status_code == 201
    assert on_neo4j.get("/users/fan/recommendations").status_code == 200


def test_an_outage_is_a_fast_503_and_the_service_recovers_by_itself(neo4j_service, neo4j_auth_server):
    client = neo4j_service()
    before = client.get("/users/s_u0/recommendations", params={"k": 5}).json()
    neo4j_auth_server.stop()
    try:
        for call in (
            lambda: client.get("/users/s_u0/recommendations", params={"k": 5}),
            lambda: client.get("/users/s_u0/explanations/d3"),
            lambda: client.post("/users", json={"id": "fan", "liked": ["s1"]}, headers=WRITE),
        ):
            response, seconds = timed(call)
            assert_problem(response, 503, "StoreUnavailableError", neo4j_auth_server.uri, "cannot reach")
            assert response.headers["Retry-After"] == "1"
            assert seconds < TIMEOUT + SLACK
        response, seconds = timed(lambda: client.get("/health"))
        assert response.status_code == 503 and seconds < TIMEOUT + SLACK
        assert response.json()["status"] == "unavailable" and "cannot reach" in response.json()["detail"]
    finally:
        neo4j_auth_server.start()
    assert recovered(client)["status"] == "ok"
    assert client.get("/users/s_u0/recommendations", params={"k": 5}).json() == before


def test_a_service_started_while_neo4j_is_down_serves_once_it_is_up(neo4j_service, neo4j_auth_server):
    neo4j_auth_server.stop()
    try:
        client = neo4j_service()
        response = client.get("/health")
        assert response.status_code == 503 and response.json()["model_loaded"] is False
        assert_problem(client.get("/users/s_u0/recommendations"), 503, "StoreUnavailableError")
    finally:
        neo4j_auth_server.start()
    assert recovered(client) == {"status": "ok", "store": "neo4j", "model_loaded": True, "detail": None}
    assert len(client.get("/users/s_u0/recommendations", params={"k": 4}).json()["items"]) == 4
