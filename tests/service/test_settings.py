"""The service is configured by KGREC_* environment variables (what the Docker files set), and
``kgrec.service.run`` hands its settings to uvicorn's worker processes through them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from pydantic import ValidationError

from kgrec import MemoryGraphStore
from kgrec.service import Settings
from kgrec.service.settings import ENV_PREFIX
from tests.service.conftest import KEY


@pytest.fixture
def environment(monkeypatch):
    """Set ``KGREC_*`` variables (and clear every other setting's)."""
    for name in Settings.model_fields:
        monkeypatch.delenv(f"{ENV_PREFIX}{name.upper()}", raising=False)

    def set_env(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)

    return set_env


def test_every_setting_comes_from_its_environment_variable(environment):
    environment(
        KGREC_STORE="neo4j",
        KGREC_CHECKPOINT="/models/ml100k",
        KGREC_NEO4J_URI="bolt://neo4j:7687",
        KGREC_NEO4J_USER="reader",
        KGREC_NEO4J_PASSWORD="s3cret",
        KGREC_NEO4J_DATABASE="films",
        KGREC_NEO4J_NAMESPACE="Shop",
        KGREC_NEO4J_TIMEOUT="2.5",
        KGREC_API_KEYS=" key-one, key-two ,,",
        KGREC_READS_KEYED="true",
        KGREC_HOST="0.0.0.0",
        KGREC_PORT="9000",
        KGREC_WORKERS="2",
        KGREC_MAX_CONVERSATIONS="50",
    )
    s = Settings()
    assert (s.store, str(s.checkpoint), s.neo4j_uri, s.neo4j_user) == ("neo4j", "/models/ml100k", "bolt://neo4j:7687", "reader")
    assert (s.neo4j_password.get_secret_value(), s.neo4j_database, s.neo4j_namespace) == ("s3cret", "films", "Shop")
    assert (s.neo4j_timeout, s.reads_keyed, s.host, s.port, s.workers, s.max_conversations) == (2.5, True, "0.0.0.0", 9000, 2, 50)
    assert [k.get_secret_value() for k in s.api_keys] == ["key-one", "key-two"]
    assert "s3cret" not in repr(s) and "key-one" not in repr(s)


def test_defaults(environment):
    environment(KGREC_GRAPH="/data/graph", KGREC_CHECKPOINT="/models/ml100k")
    s = Settings()
    assert (s.store, s.neo4j_timeout, s.api_keys, s.reads_keyed, s.host, s.port, s.workers) == (
        "memory", 5.0, (), False, "127.0.0.1", 8000, 1)


@pytest.mark.parametrize(
    "variables, words",
    [
        ({"KGREC_CHECKPOINT": "/m"}, "store=memory needs graph (KGREC_GRAPH)"),
        ({"KGREC_CHECKPOINT": "/m", "KGREC_STORE": "neo4j"}, "store=neo4j needs neo4j_uri (KGREC_NEO4J_URI)"),
        ({"KGREC_GRAPH": "/g"}, "checkpoint"),
        ({"KGREC_CHECKPOINT": "/m", "KGREC_GRAPH": "/g", "KGREC_STORE": "sqlite"}, "store"),
        ({"KGREC_CHECKPOINT": "/m", "KGREC_GRAPH": "/g", "KGREC_PORT": "70000"}, "port"),
        ({"KGREC_CHECKPOINT": "/m", "KGREC_GRAPH": "/g", "KGREC_NEO4J_TIMEOUT": "0"}, "neo4j_timeout"),
        ({"KGREC_CHECKPOINT": "/m", "KGREC_GRAPH": "/g", "KGREC_WORKERS": "0"}, "workers"),
    ],
)
def test_bad_settings_are_refused_naming_them(environment, variables, words):
    environment(**variables)
    with pytest.raises(ValidationError, match=words.replace("(", r"\(").replace(")", r"\)")):
        Settings()


def test_settings_survive_the_trip_through_the_environment(environment):
    settings = Settings(store="neo4j", checkpoint="/m", neo4j_uri="bolt://h:1", neo4j_password="pw",
                        api_keys="a,b", reads_keyed=True, workers=3, neo4j_timeout=1.5)
    environment(**settings.environment())
    assert Settings() == settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_python_m_kgrec_service_serves_with_two_workers(checkpoint, graph):
    """The real thing: uvicorn with two worker processes, configured by the environment; a
    write lands in the embedded store's folder."""
    port = free_port()
    env = {**os.environ, **Settings(graph=graph, checkpoint=checkpoint, api_keys=KEY, port=port, workers=2).environment()}
    server = subprocess.Popen([sys.executable, "-m", "kgrec.service"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stderr.read().decode()
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the service did not start within 120 s"
            time.sleep(0.5)
        for _ in range(20):
            response = httpx.get(f"{url}/users/s_u0/recommendations", params={"k": 3}, timeout=30)
            assert response.status_code == 200 and len(response.json()["items"]) == 3
        assert httpx.post(f"{url}/users", json={"id": "fan", "liked": ["s1"]}, headers={"X-API-Key": KEY}, timeout=30).status_code == 201
        assert httpx.post(f"{url}/users", json={"id": "fan2", "liked": ["s1"]}, timeout=30).status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert server.returncode == 0
    [user] = MemoryGraphStore.open(graph).get_nodes("User", ["fan"])
    assert user.id == "fan"
