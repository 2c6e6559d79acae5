"""Shared fixtures: the two stores, and a real Neo4j server.

Neo4j: if ``NEO4J_URI`` is set, the tests use that server; otherwise the session starts one with
``docker/neo4j.sh`` (the same script CI and the README use) and stops it at the end. When the
server cannot be reached, Neo4j tests skip locally but fail under ``CI=true``.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from kgrec import MemoryGraphStore, Neo4jGraphStore

ROOT = Path(__file__).resolve().parents[1]
NEO4J_SCRIPT = ROOT / "docker" / "neo4j.sh"
SHARED_DATA = Path(os.environ.get("KGREC_SHARED_DATA", ROOT.parent / "shared" / "data"))
IN_CI = os.environ.get("CI", "").lower() == "true"


def neo4j_unavailable(reason: str) -> None:
    """Fail under CI=true; skip (loudly, with the reason) only on a developer's machine."""
    if IN_CI:
        pytest.fail(f"Neo4j is required under CI=true: {reason}", pytrace=False)
    pytest.skip(f"Neo4j not available and CI is not set: {reason}")


def _script(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["bash", str(NEO4J_SCRIPT), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"docker/neo4j.sh {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _start(env: dict[str, str]) -> str:
    """Start a server with ``docker/neo4j.sh`` and return its URI (or skip / fail)."""
    failures = []
    for _ in range(2):  # once, a server died at startup with an empty log; a retry is cheap
        try:
            out = _script("start", env=env)
            return out.strip().splitlines()[-1].split("=", 1)[1]
        except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
            failures.append(str(exc))
    neo4j_unavailable("\n".join(failures))


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory):
    """``(uri, restart)``: the server's Bolt URI and a function that restarts it (same data)."""
    uri = os.environ.get("NEO4J_URI")
    if uri:
        yield uri, None
        return
    env = {"KGREC_NEO4J_STATE": str(tmp_path_factory.mktemp("neo4j-state"))}
    uri = _start(env)
    try:
        yield uri, lambda: _script("restart", env=env)
    finally:
        _script("stop", env=env)


@dataclass(frozen=True)
class AuthServer:
    """A second local server with authentication on: user ``neo4j``, ``password``; ``stop()``
    keeps its data and port, ``start()`` brings it back at the same URI."""

    uri: str
    password: str
    stop: Callable[[], str]
    start: Callable[[], str]


@pytest.fixture(scope="session")
def neo4j_auth_server(tmp_path_factory):
    """Always started here with ``docker/neo4j.sh`` (``KGREC_NEO4J_PASSWORD``), even when
    ``NEO4J_URI`` names a server: the tests need to stop it and to know its password."""
    password = secrets.token_urlsafe(12)
    env = {
        "KGREC_NEO4J_STATE": str(tmp_path_factory.mktemp("neo4j-auth-state")),
        "KGREC_NEO4J_PASSWORD": password,
    }
    uri = _start(env)
    try:
        yield AuthServer(
            uri, password, lambda: _script("stop", "--keep-data", env=env), lambda: _script("start", env=env)
        )
    finally:
        _script("stop", env=env)


@pytest.fixture(scope="session")
def neo4j_driver(neo4j_server):
    import neo4j

    uri, _ = neo4j_server
    auth = None
    if os.environ.get("NEO4J_PASSWORD"):
        auth = (os.environ.get("NEO4J_USER", "neo4j"), os.environ["NEO4J_PASSWORD"])
    driver = neo4j.GraphDatabase.driver(uri, auth=auth)
    try:
        driver.verify_connectivity()
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "unavailable"
        driver.close()
        neo4j_unavailable(f"cannot connect to {uri}: {exc}")
    yield driver
    driver.close()


@pytest.fixture
def neo4j_store(neo4j_driver):
    """A Neo4j store in the default label namespace, empty, with the schema applied. Only
    kgrec's nodes are cleared (links that a failed test left to foreign nodes included), so a
    test that writes other data into the database removes it itself."""
    store = Neo4jGraphStore(neo4j_driver)
    store.clear(detach_foreign=True)
    yield store
    store.clear(detach_foreign=True)


@pytest.fixture
def memory_store():
    return MemoryGraphStore()


@pytest.fixture(params=["memory", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request):
    """Each test that takes ``store`` runs once per store, from one test body."""
    return request.getfixturevalue(f"{request.param}_store")


@pytest.fixture
def both_stores(memory_store, neo4j_store):
    """``(memory, neo4j)``: for tests that compare the two stores' answers directly."""
    return memory_store, neo4j_store


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real datasets in ``../shared/data``; skipped only outside CI when absent."""
    if not SHARED_DATA.is_dir():
        if IN_CI:
            pytest.fail(f"shared data not found at {SHARED_DATA} under CI=true", pytrace=False)
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


def pytest_terminal_summary(terminalreporter) -> None:
    """Say how many Neo4j tests ran, so a CI log shows they were not skipped."""
    outcomes: dict[str, set[str]] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if "neo4j" in getattr(report, "keywords", {}):
                outcomes.setdefault(outcome, set()).add(report.nodeid)
    if outcomes:
        counts = ", ".join(f"{len(ids)} {outcome}" for outcome, ids in sorted(outcomes.items()))
        terminalreporter.write_line(f"Neo4j tests against a real server: {counts}")
