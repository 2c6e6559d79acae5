"""``import kgrec`` loads neither the Neo4j driver nor transformers (issue #14), nor does the
command line's module (#13), and every public name still resolves, the lazy ones on first
access.

The probe runs in a fresh interpreter: this test session has imported both already. PyTorch
Geometric 2.8 itself imports part of transformers (``torch_geometric.llm``), so for the names
that need PyG (Recommender, Trainer, TrainConfig) the probe checks what kgrec adds on top of it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = r"""
import json, sys

HEAVY = ("neo4j", "transformers", "torch_geometric")


def loaded():
    return sorted(p for p in HEAVY if p in sys.modules)


import kgrec

report = {"after_import": loaded()}
from kgrec import MemoryGraphStore, NodeRecord, loaders

MemoryGraphStore().upsert_nodes("User", [NodeRecord("u1")])
report["after_store"] = loaded()
import kgrec.cli

report["after_cli"] = loaded()
import torch_geometric

before = set(sys.modules)
from kgrec import Recommender, TrainConfig, Trainer

report["added_by_models"] = sorted(set(sys.modules) - before)
report["in_dir"] = sorted(set(kgrec.__all__) & set(dir(kgrec)))
neo4j_store = kgrec.Neo4jGraphStore
report["neo4j_after_access"] = "neo4j" in sys.modules
report["neo4j_store"] = f"{neo4j_store.__module__}.{neo4j_store.__qualname__}"
import kgrec.graph

report["same_class"] = kgrec.graph.Neo4jGraphStore is neo4j_store
namespace = {}
exec("from kgrec import *", namespace)
report["star"] = sorted(name for name in kgrec.__all__ if name in namespace)
report["graph_names"] = sorted(n for n in kgrec.graph.__all__ if hasattr(kgrec.graph, n))
try:
    kgrec.NoSuchName
except AttributeError as exc:
    report["missing"] = str(exc)
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def probe() -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _package(module: str) -> str:
    return module.split(".", 1)[0]


def test_import_kgrec_loads_neither_neo4j_nor_transformers(probe):
    assert probe["after_import"] == []
    assert probe["after_store"] == []  # the embedded store and the loaders need neither
    assert probe["after_cli"] == []  # nor does the command line until a command needs them


def test_the_model_names_add_nothing_heavy_beyond_pyg(probe):
    heavy = [m for m in probe["added_by_models"] if _package(m) in {"neo4j", "transformers"}]
    assert heavy == []


def test_the_lazy_neo4j_store_resolves_on_first_access(probe):
    assert probe["neo4j_store"] == "kgrec.graph.neo4j_store.Neo4jGraphStore"
    assert probe["neo4j_after_access"]
    assert probe["same_class"]


def test_every_public_name_still_resolves(probe):
    import kgrec
    import kgrec.graph

    assert probe["star"] == sorted(kgrec.__all__)
    assert probe["in_dir"] == sorted(kgrec.__all__)
    assert probe["graph_names"] == sorted(kgrec.graph.__all__)
    assert "NoSuchName" in probe["missing"]
