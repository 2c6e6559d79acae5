"""The REST service on the embedded store: every endpoint, problem+json errors, API keys."""

from __future__ import annotations

import hmac
import threading
import time

import pytest

from kgrec import MemoryGraphStore, Recommender, UnknownIdError
from kgrec.errors import StoreUnavailableError
from kgrec.service.auth import KeyCheck
from tests.service.conftest import KEY, OTHER_KEY, stored_items

PROBLEM = "application/problem+json"
WRITE = {"X-API-Key": KEY}


def assert_problem(response, status: int, title: str, *words: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"] == title and body["type"] == f"urn:kgrec:error:{title}"
    for word in words:
        assert word in body["detail"]
    return body


def test_health_says_the_store_is_reachable(service):
    response = service().get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "store": "memory", "model_loaded": True, "detail": None}


def test_recommendations_are_ranked_unseen_and_explained(service, graph):
    client = service()
    body = client.get("/users/s_u0/recommendations", params={"k": 5}).json()
    items = body["items"]
    assert body["user_id"] == "s_u0" and [r["rank"] for r in items] == [1, 2, 3, 4, 5]
    assert [r["logit"] for r in items] == sorted((r["logit"] for r in items), reverse=True)
    assert not {r["item_id"] for r in items} & stored_items(MemoryGraphStore.open(graph), "s_u0")
    assert sum(r["item_id"].startswith("s") for r in items) >= 4  # a sci-fi fan gets sci-fi
    for item in items:
        paths = item["explanation"]["paths"]
        assert paths and item["explanation"]["sentence"] == paths[0]["sentence"]
        assert all(p["nodes"][0]["id"] == "s_u0" and p["nodes"][-1]["id"] == item["item_id"] for p in paths)
        assert len(paths[0]["relations"]) == len(paths[0]["nodes"]) - 1
    unexplained = client.get("/users/s_u0/recommendations", params={"k": 5, "explain": "false"}).json()["items"]
    assert [r["item_id"] for r in unexplained] == [r["item_id"] for r in items]
    assert all(r["explanation"] is None for r in unexplained)


def test_an_explanation_for_any_item(service, checkpoint):
    client = service()
    body = client.get("/users/s_u0/explanations/d3").json()
    assert (body["user_id"], body["item_id"], body["name"]) == ("s_u0", "d3", "Film d3")
    assert 0 < body["score"] < 1
    assert all(p["nodes"][-1]["id"] == "d3" for p in body["explanation"]["paths"])
    top = client.get("/users/s_u0/recommendations", params={"k": 1}).json()["items"][0]
    again = client.get(f"/users/s_u0/explanations/{top['item_id']}").json()
    assert again["logit"] == pytest.approx(top["logit"], rel=1e-5)


@pytest.mark.parametrize(
    "path, words",
    [
        ("/users/nobody/recommendations", ["unknown user id(s): 'nobody'"]),
        ("/users/s_u0/explanations/no-film", ["unknown item id(s): 'no-film'"]),
    ],
)
def test_unknown_ids_are_404_problems(service, path, words):
    body = assert_problem(service().get(path), 404, "UnknownIdError", *words)
    assert body["instance"] == path


@pytest.mark.parametrize("k", ["0", "-1", "1001", "many"])
def test_bad_parameters_are_422_problems_naming_them(service, k):
    body = assert_problem(service().get("/users/s_u0/recommendations", params={"k": k}), 422, "InvalidValueError", "query.k")
    assert body["errors"][0]["where"] == "query.k"


def test_an_unknown_route_is_a_404_problem(service):
    assert_problem(service().get("/nothing-here"), 404, "NotFound")


@pytest.mark.parametrize(
    "headers, words",
    [({}, "needs an API key in the X-API-Key header"), ({"X-API-Key": KEY + "x"}, "no valid API key")],
)
def test_writes_need_a_valid_key(service, graph, headers, words):
    client = service()
    response = client.post("/users", json={"id": "new", "liked": ["s1"]}, headers=headers)
    assert_problem(response, 401, "Unauthorized", words)
    with pytest.raises(UnknownIdError):
        MemoryGraphStore.open(graph).get_nodes("User", ["new"])
    assert client.get("/users/s_u0/recommendations").status_code == 200  # reads are open by default


def test_reads_keyed_needs_a_key_for_reads_too(service):
    client = service(api_keys=f"{KEY},{OTHER_KEY}", reads_keyed=True)
    assert_problem(client.get("/users/s_u0/recommendations"), 401, "Unauthorized")
    assert client.get("/users/s_u0/recommendations", headers={"X-API-Key": OTHER_KEY}).status_code == 200
    assert client.get("/health").status_code == 200  # health stays open


def test_no_configured_key_refuses_every_write(service):
    response = service(api_keys="").post("/users", json={"id": "new", "liked": ["s1"]}, headers=WRITE)
    assert_problem(response, 401, "Unauthorized", "no API keys configured")


def test_keys_are_compared_in_constant_time_against_every_key(monkeypatch):
    from pydantic import SecretStr

    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    check = KeyCheck([SecretStr("first"), SecretStr("second"), SecretStr("third")])
    for given, accepted in (("first", True), ("third", True), ("fourth", False), ("firs", False)):
        calls.clear()
        assert check.accepts(given) is accepted
        assert len(calls) == 3  # no early exit on a match
        assert all(len(a) == len(b) == 32 for a, b in calls)  # digests: a key's length never shows


def test_a_new_user_is_written_and_served_at_once(service, graph):
    client = service()
    response = client.post("/users", json={"id": "fan", "text": "likes space and robots", "liked": ["s1", "s2", "s3"]}, headers=WRITE)
    assert response.status_code == 201 and response.json() == {"label": "User", "id": "fan"}
    assert stored_items(MemoryGraphStore.open(graph), "fan") == {"s1", "s2", "s3"}
    items = client.get("/users/fan/recommendations", params={"k": 5}).json()["items"]
    assert not {r["item_id"] for r in items} & {"s1", "s2", "s3"}
    assert sum(r["item_id"].startswith("s") for r in items) >= 4
    again = client.post("/users", json={"id": "fan", "liked": ["s1"]}, headers=WRITE)
    assert_problem(again, 422, "InvalidValueError", "'fan' exists already")
    assert_problem(client.post("/users", json={"id": "x", "liked": ["no-film"]}, headers=WRITE), 404, "UnknownIdError")
    assert_problem(client.post("/users", json={"id": "x"}, headers=WRITE), 422, "InvalidValueError", "neither")


def test_a_new_item_is_written_and_explained_at_once(service, graph):
    client = service()
    item = {"id": "s99", "text": "space alien robot future film", "name": "Film s99", "properties": {"year": 2024},
            "links": [{"relation": "has_genre", "entity": "scifi"}, {"relation": "director", "entity": "dir_scifi0"}]}
    response = client.post("/items", json=item, headers=WRITE)
    assert response.status_code == 201, response.text
    [stored] = MemoryGraphStore.open(graph).get_nodes("Item", ["s99"])
    assert (stored.name, stored.properties["year"]) == ("Film s99", 2024)
    body = client.get("/users/s_u0/explanations/s99").json()
    assert body["name"] == "Film s99"
    assert any("scifi" in [n["id"] for n in p["nodes"]] for p in body["explanation"]["paths"])
    bad = {**item, "id": "s98", "links": [{"relation": "no_such_relation", "entity": "scifi"}]}
    assert_problem(client.post("/items", json=bad, headers=WRITE), 422, "InvalidValueError", "no_such_relation")
    bad = {**item, "id": "s98", "links": [{"relation": "bad name!", "entity": "scifi"}]}
    assert_problem(client.post("/items", json=bad, headers=WRITE), 422, "InvalidNameError")


def test_conversation_turns_accumulate_under_their_id(service):
    client = service()
    first = client.post("/conversations/c1/turns", json={"text": "a Drama film", "k": 3})
    assert first.status_code == 200, first.text
    first = first.json()
    assert first["turn"] == 1 and first["conversation_id"] == "c1" and first["reply"]
    assert len(first["items"]) == 3 and all(r["item_id"].startswith("d") for r in first["items"])
    second = client.post("/conversations/c1/turns", json={"text": "more", "k": 3}).json()
    assert second["turn"] == 2
    assert not {r["item_id"] for r in second["items"]} & {r["item_id"] for r in first["items"]}  # shown never repeats
    other = client.post("/conversations/c2/turns", json={"text": "a Drama film", "k": 3, "user_id": "d_u1"}).json()
    assert other["turn"] == 1
    mismatch = client.post("/conversations/c2/turns", json={"text": "more", "user_id": "s_u0"})
    assert_problem(mismatch, 422, "InvalidValueError", "is with user 'd_u1'")
    assert_problem(client.post("/conversations/c3/turns", json={"text": "hi", "user_id": "nobody"}), 404, "UnknownIdError")


def test_conversations_are_bounded(service):
    client = service(max_conversations=2)
    for conversation in ("a", "b", "a", "c"):  # c drops b, the least recently used
        client.post(f"/conversations/{conversation}/turns", json={"text": "a Drama film", "k": 1})
    turns = {c: client.post(f"/conversations/{c}/turns", json={"text": "more", "k": 1}).json()["turn"] for c in "acb"}
    assert turns == {"a": 3, "c": 2, "b": 1}


def test_the_openapi_document_lists_every_endpoint(service):
    client = service()
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths) == {
        "/health",
        "/users/{user_id}/recommendations",
        "/users/{user_id}/explanations/{item_id}",
        "/users",
        "/items",
        "/feedback",
        "/conversations/{conversation_id}/turns",
    }
    assert client.get("/docs").status_code == 200


needs_feedback = pytest.mark.skipif(not hasattr(Recommender, "feedback"), reason="Recommender.feedback (part B1) not landed")


@needs_feedback
def test_feedback_is_stored_and_changes_the_next_recommendations(service, graph):
    client = service()
    before = client.get("/users/s_u0/recommendations", params={"k": 5, "explain": "false"}).json()["items"]
    top = before[0]["item_id"]
    event = {"user_id": "s_u0", "item_id": top, "kind": "like", "timestamp": 1_700_000_000}
    assert_problem(client.post("/feedback", json=event), 401, "Unauthorized")
    response = client.post("/feedback", json=event, headers=WRITE)
    assert response.status_code == 201, response.text
    assert response.json() == {**event, "value": None, "source": "api"}
    assert top in stored_items(MemoryGraphStore.open(graph), "s_u0")
    after = client.get("/users/s_u0/recommendations", params={"k": 5, "explain": "false"}).json()["items"]
    assert top not in [r["item_id"] for r in after]
    assert_problem(client.post("/feedback", json={**event, "kind": "love"}, headers=WRITE), 422, "InvalidValueError", "kind")
    assert_problem(client.post("/feedback", json={**event, "item_id": "no-film"}, headers=WRITE), 404, "UnknownIdError")


@needs_feedback
def test_two_workers_on_one_folder_see_each_others_feedback(service, graph):
    one, two = service(), service()
    top = two.get("/users/d_u0/recommendations", params={"k": 3, "explain": "false"}).json()["items"][0]["item_id"]
    event = {"user_id": "d_u0", "item_id": top, "kind": "dislike"}
    assert one.post("/feedback", json=event, headers=WRITE).status_code == 201
    after = two.get("/users/d_u0/recommendations", params={"k": 3, "explain": "false"}).json()["items"]
    assert top not in [r["item_id"] for r in after]


def test_requests_waiting_behind_an_outage_fail_at_once_and_the_next_one_tries_again(service):
    """A request that finds the store unreachable takes the driver's timeout; those that waited
    for their turn meanwhile get its 503 at once, and the first to arrive after it tries the
    store again (here: it is back)."""
    client = service()
    store = client.app.state.serving._recommender.store
    syncs, responses = [], []

    def sync_down() -> None:
        syncs.append(time.monotonic())
        if len(syncs) == 1:
            time.sleep(1.0)
            raise StoreUnavailableError("cannot reach the test store")

    store.sync = sync_down
    first = threading.Thread(target=lambda: responses.append(client.get("/users/s_u0/recommendations")))
    first.start()
    time.sleep(0.2)
    started = time.monotonic()
    waited = client.get("/users/s_u0/recommendations")
    first.join()
    assert_problem(waited, 503, "StoreUnavailableError", "cannot reach the test store")
    assert time.monotonic() - started < 1.5  # no second 1 s attempt
    assert_problem(responses[0], 503, "StoreUnavailableError")
    assert len(syncs) == 1  # the waiting request never reached the store
    assert client.get("/users/s_u0/recommendations").status_code == 200
    assert len(syncs) == 2
