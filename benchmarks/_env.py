"""What every benchmark records beside its figures: machine, versions, and a Neo4j server."""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KGREC_SHARED", ROOT.parent / "shared"))
RESULTS = ROOT / "benchmarks" / "results"


def machine() -> dict:
    """CPU model, core count, memory and the load average when the run started."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "")
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory_kb = next(int(ln.split()[1]) for ln in meminfo if ln.startswith("MemTotal"))
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gb": round(memory_kb / 2**20, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def versions(*packages: str, driver=None) -> dict:
    """Python, the given packages' versions and, with a driver, the Neo4j server's."""
    found = {p: importlib.metadata.version(p) for p in ("kgrec", *packages)}
    found["python"] = platform.python_version()
    if driver is not None:
        records = driver.execute_query("CALL dbms.components() YIELD versions, edition")[0]
        found["neo4j_server"] = f"{records[0]['versions'][0]} {records[0]['edition']}"
    return found


@contextlib.contextmanager
def neo4j_server(state: str = "/tmp/kgrec-neo4j-bench") -> Iterator[str]:
    """The Bolt URI of ``NEO4J_URI`` if set, else of a server started (and stopped after) with
    ``docker/neo4j.sh``, the script the tests and CI use."""
    if os.environ.get("NEO4J_URI"):
        yield os.environ["NEO4J_URI"]
        return
    env = {**os.environ, "KGREC_NEO4J_STATE": state}
    script = str(ROOT / "docker" / "neo4j.sh")
    done = subprocess.run(["bash", script, "start"], capture_output=True, text=True, check=True, env=env)
    try:
        yield done.stdout.strip().splitlines()[-1].split("=", 1)[1]
    finally:
        subprocess.run(["bash", script, "stop"], check=True, env=env)


def status_mb(field: str) -> float:
    """A memory line of ``/proc/self/status`` (``VmRSS``, ``VmHWM``: the peak) in MiB."""
    lines = Path("/proc/self/status").read_text().splitlines()
    return int(next(ln for ln in lines if ln.startswith(f"{field}:")).split()[1]) / 1024


def write_result(name: str, payload: dict) -> Path:
    """Write ``benchmarks/results/<name>.json``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=1, sort_keys=False) + "\n")
    return path
