"""``kgrec serve``: its options are the service's settings, one for one; options left out
come from the ``KGREC_*`` environment (or the settings' defaults)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from kgrec.cli import serve as serve_command
from tests.cli.conftest import flat, invoke

service = pytest.importorskip("kgrec.service", reason="the serve extra (fastapi, uvicorn) is not installed")


@pytest.fixture
def served(monkeypatch):
    """The settings ``kgrec serve`` would run with (nothing is started)."""
    runs = []
    monkeypatch.setattr(service, "run", runs.append)
    return runs


def test_every_setting_has_an_option():
    options = set(inspect.signature(serve_command.serve).parameters)
    assert options == set(service.Settings.model_fields)


def test_options_become_the_settings(tmp_path, served):
    result = invoke(
        "serve",
        "--store",
        "neo4j",
        "--neo4j-uri",
        "bolt://db:7687",
        "--neo4j-user",
        "u",
        "--neo4j-password",
        "pw",
        "--neo4j-database",
        "recs",
        "--namespace",
        "Shop",
        "--neo4j-timeout",
        "2.5",
        "--checkpoint",
        tmp_path,
        "--api-keys",
        "k1,k2",
        "--reads-keyed",
        "--host",
        "0.0.0.0",
        "--port",
        "8081",
        "--workers",
        "2",
        "--max-conversations",
        "10",
    )
    assert result.exit_code == 0, result.output
    [settings] = served
    assert (settings.store, settings.neo4j_uri, settings.neo4j_user, settings.neo4j_database) == (
        "neo4j",
        "bolt://db:7687",
        "u",
        "recs",
    )
    assert settings.neo4j_password.get_secret_value() == "pw" and settings.neo4j_namespace == "Shop"
    assert [k.get_secret_value() for k in settings.api_keys] == ["k1", "k2"] and settings.reads_keyed
    assert (settings.neo4j_timeout, settings.checkpoint, settings.host, settings.port, settings.workers) == (
        2.5,
        tmp_path,
        "0.0.0.0",
        8081,
        2,
    )
    assert settings.max_conversations == 10


def test_options_left_out_come_from_the_environment(tmp_path, served):
    env = {
        "KGREC_GRAPH": str(tmp_path / "g"),
        "KGREC_CHECKPOINT": str(tmp_path),
        "KGREC_PORT": "9000",
        "KGREC_API_KEYS": "a",
    }
    result = invoke("serve", "--port", "9001", env=env)
    assert result.exit_code == 0, result.output
    [settings] = served
    assert (settings.store, settings.graph, settings.port, settings.workers) == (
        "memory",
        Path(tmp_path / "g"),
        9001,
        1,
    )
    assert [k.get_secret_value() for k in settings.api_keys] == ["a"] and not settings.reads_keyed


def test_incomplete_settings_are_a_usage_error(tmp_path, served):
    result = invoke("serve", "--checkpoint", tmp_path, env={"KGREC_GRAPH": None})
    assert result.exit_code == 2 and not served
    assert "store=memory needs graph (KGREC_GRAPH)" in flat(result.output)


def test_help_lists_the_environment_variables_and_examples():
    text = flat(invoke("serve", "--help").output)
    for variable in (
        "KGREC_STORE",
        "KGREC_GRAPH",
        "KGREC_CHECKPOINT",
        "KGREC_API_KEYS",
        "KGREC_NEO4J_TIMEOUT",
        "KGREC_WORKERS",
    ):
        assert variable in text
    assert "Examples: kgrec serve --graph" in text and "kgrec[serve]" in text
