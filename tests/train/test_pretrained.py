"""Recommender.save_pretrained / from_pretrained: the Hugging Face convention on kgrec's
checkpoints. A round trip serves the same scores; damaged or pickled weights are refused; a
Hub repo id never goes further than the local cache when offline, and fails fast and clearly
when the Hub cannot be reached."""

from __future__ import annotations

import hashlib
import json
import math
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import huggingface_hub.constants
import pytest
import torch
from huggingface_hub import ModelCard

from kgrec import MemoryGraphStore
from kgrec.errors import CheckpointError, InvalidValueError
from kgrec.recommender import Recommender
from kgrec.train.pretrained import CARD_FILE, PRETRAINED_FILES
from tests.train.test_checkpoint import edit_config, text_recommender

METRICS = {"ndcg@10": 0.2514, "recall@20": 0.4107}
REPO = "someone/kgrec-movies"


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fail any test that resolves a host other than the loopback (no Hub is ever asked).
    huggingface_hub itself asks huggingface.co for a registry of agent names when it first
    builds request headers, whatever the endpoint: that one is turned off."""
    monkeypatch.setattr("huggingface_hub.utils._detect_agent._fetch_registry", lambda: None, raising=False)
    asked = []
    resolve = socket.getaddrinfo

    def local_only(host, *args, **kwargs):
        if host not in ("127.0.0.1", "localhost", "::1"):
            asked.append(host)
            raise socket.gaierror(socket.EAI_NONAME, "tests do not use the network")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)
    yield
    assert asked == [], f"a test tried to reach {asked}"


@pytest.fixture
def memory_rec():
    """A calibrated recommender on a fresh embedded store."""
    rec = text_recommender(MemoryGraphStore())
    rec.calibrate()
    return rec


@pytest.fixture
def shared(memory_rec, tmp_path):
    return memory_rec.save_pretrained(tmp_path / "shared", text_model="default", metrics=METRICS)


def same_service(rec, again):
    """Both recommenders give every user the same logits, top items and scores."""
    users = rec.snapshot.node_ids["user"]
    assert torch.equal(again.logits(users), rec.logits(users))
    top = [(r.item_id, r.score) for u in users for r in rec.recommend(u, k=5, explain=False)]
    assert [(r.item_id, r.score) for u in users for r in again.recommend(u, k=5, explain=False)] == top


def test_round_trip_serves_the_same_scores(tmp_path, store):
    rec = text_recommender(store)
    rec.calibrate()
    folder = rec.save_pretrained(tmp_path / "shared", text_model="default", metrics=METRICS)
    assert sorted(p.name for p in folder.iterdir()) == sorted(PRETRAINED_FILES)
    again = Recommender.from_pretrained(str(folder), store)
    assert rec.calibration is not None and again.calibration == rec.calibration
    same_service(rec, again)


def test_model_card_states_the_graph_the_metrics_and_how_to_load(memory_rec, shared):
    card = ModelCard.load(shared / CARD_FILE)
    assert card.data.library_name == "kgrec"
    assert "KGRecModel" in card.data.tags
    snapshot = memory_rec.snapshot
    counts = ", ".join(f"{len(snapshot.node_ids[t]):,} {t}" for t in ("user", "item", "entity"))
    assert f"trained on a graph of {counts} nodes, knowledge-graph edges included." in card.text
    for part, digest in snapshot.fingerprints().items():
        assert f"| `{part}` | `{digest}` |" in card.text
    for name, value in METRICS.items():
        assert f"| `{name}` | `{value}` |" in card.text
    assert "Recommender.from_pretrained(" in card.text
    assert "calibrated probabilities (isotonic" in card.text


def test_saving_again_rewrites_the_card(memory_rec, shared):
    memory_rec.save_pretrained(shared)  # no metrics this time
    assert "## Metrics" not in (shared / CARD_FILE).read_text()


@pytest.mark.parametrize(
    "metrics, match",
    [
        ({"ndcg@10": math.nan}, r"metric 'ndcg@10' must be a finite number, got nan"),
        ({"ndcg@10": "0.3"}, r"metric 'ndcg@10' must be a finite number, got '0.3'"),
        ({"ndcg@10": True}, r"metric 'ndcg@10' must be a finite number"),
        ({"": 0.3}, r"metric names must be non-empty strings, got ''"),
        ([("ndcg@10", 0.3)], r"metrics must map names to numbers"),
    ],
)
def test_bad_metrics_are_refused_before_anything_is_written(memory_rec, tmp_path, metrics, match):
    with pytest.raises(InvalidValueError, match=match):
        memory_rec.save_pretrained(tmp_path / "shared", metrics=metrics)
    assert not (tmp_path / "shared").exists()


def test_changed_weight_bytes_are_refused(memory_rec, shared):
    weights = shared / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"model.safetensors: its SHA-256 .* weights_sha256"):
        Recommender.from_pretrained(shared, memory_rec.store)


def test_pickled_weights_are_never_unpickled(memory_rec, shared, monkeypatch):
    """A pickle in place of the safetensors file, even with a matching SHA-256 in config.json,
    is refused without being unpickled."""
    torch.save(memory_rec.model.state_dict(), shared / "model.safetensors")
    digest = hashlib.sha256((shared / "model.safetensors").read_bytes()).hexdigest()
    edit_config(shared, lambda c: c.update(weights_sha256=digest))

    def refuse(*args, **kwargs):
        raise AssertionError("something was unpickled")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr("pickle.load", refuse)
    monkeypatch.setattr("pickle.loads", refuse)
    with pytest.raises(CheckpointError, match=r"model.safetensors: not a readable safetensors file"):
        Recommender.from_pretrained(shared, memory_rec.store)


def test_a_pytorch_bin_is_no_substitute(memory_rec, shared):
    (shared / "model.safetensors").rename(shared / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match=r"model.safetensors: file missing"):
        Recommender.from_pretrained(shared, memory_rec.store)


def test_a_store_with_another_graph_is_refused(shared):
    other = text_recommender(MemoryGraphStore())  # the same graph, then one user more
    other.store.upsert_nodes("User", [{"id": "newcomer"}])
    with pytest.raises(CheckpointError, match=r"config.json was trained on a different graph: .*user ids differ$"):
        Recommender.from_pretrained(shared, other.store)


@pytest.mark.parametrize(
    "name, match",
    [
        ("/no/such/folder", r"'/no/such/folder' is neither an existing folder nor a Hugging Face repo id"),
        ("a/b/c", r"'a/b/c' is neither an existing folder nor a Hugging Face repo id"),
        (42, r"a pretrained model is a folder or a Hub repo id, got 42"),
    ],
)
def test_names_that_are_neither_folder_nor_repo_are_refused(memory_rec, name, match):
    with pytest.raises(CheckpointError, match=match):
        Recommender.from_pretrained(name, memory_rec.store)


@pytest.mark.parametrize("timeout", [0, -1.0, math.inf, "10", True])
def test_timeout_must_be_a_positive_number(memory_rec, timeout):
    with pytest.raises(InvalidValueError, match=r"timeout must be a positive number of seconds"):
        Recommender.from_pretrained(REPO, memory_rec.store, timeout=timeout)


def test_a_path_that_is_no_folder_is_refused(memory_rec, shared, tmp_path):
    with pytest.raises(CheckpointError, match=r"missing: not a folder"):
        Recommender.from_pretrained(tmp_path / "missing", memory_rec.store)
    with pytest.raises(CheckpointError, match=r"config.json: not a folder"):
        Recommender.from_pretrained(str(shared / "config.json"), memory_rec.store)


def populate_hub_cache(cache, repo, folder):
    """Lay ``folder``'s files out as huggingface_hub's cache holds a downloaded repo."""
    commit = "0" * 40
    root = cache / f"models--{repo.replace('/', '--')}"
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(commit)
    snapshot = root / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for name in PRETRAINED_FILES:
        (snapshot / name).write_bytes((folder / name).read_bytes())


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dead_hub():
    """The address of a Hub that refuses connections."""
    return f"http://127.0.0.1:{closed_port()}"


def test_a_repo_in_the_hub_cache_loads_offline(memory_rec, shared, tmp_path, dead_hub):
    populate_hub_cache(tmp_path / "hub", REPO, shared)
    again = Recommender.from_pretrained(
        REPO, memory_rec.store, cache_dir=tmp_path / "hub", local_files_only=True, endpoint=dead_hub
    )
    same_service(memory_rec, again)


def test_offline_repo_id_not_in_the_cache_is_a_clear_error(memory_rec, tmp_path, monkeypatch, dead_hub):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    start = time.monotonic()
    match = rf"{REPO} could not be fetched: offline, and it is not in the Hugging Face cache$"
    with pytest.raises(CheckpointError, match=match):
        Recommender.from_pretrained(REPO, memory_rec.store, cache_dir=tmp_path / "hub", endpoint=dead_hub)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    with pytest.raises(CheckpointError, match=match):
        Recommender.from_pretrained(
            REPO, memory_rec.store, cache_dir=tmp_path / "hub", local_files_only=True, endpoint=dead_hub
        )
    assert time.monotonic() - start < 2


def test_unreachable_hub_is_a_clear_error_not_a_hang(memory_rec, shared, tmp_path, monkeypatch, dead_hub):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    hub = {"cache_dir": tmp_path / "hub", "endpoint": dead_hub, "timeout": 2}
    start = time.monotonic()
    match = rf"{REPO} could not be fetched: .*Connection refused, and it is not in the Hugging Face cache$"
    with pytest.raises(CheckpointError, match=match):
        Recommender.from_pretrained(REPO, memory_rec.store, **hub)
    assert time.monotonic() - start < 5
    populate_hub_cache(tmp_path / "hub", REPO, shared)  # once downloaded, the cache serves it
    again = Recommender.from_pretrained(REPO, memory_rec.store, **hub)
    same_service(memory_rec, again)


class FakeHub(BaseHTTPRequestHandler):
    """The few Hub endpoints huggingface_hub uses to fetch a file: the revision's commit
    (``/api/models/<repo>/revision/<rev>``) and ``/<repo>/resolve/<commit>/<file>`` (HEAD and
    GET), serving :attr:`files` of one repo at one commit; :attr:`asked` records each path."""

    repo = REPO
    commit = "1" * 40
    files: dict[str, bytes] = {}
    asked: list[str] = []

    def _file(self) -> bytes | None:
        prefix = f"/{self.repo}/resolve/"
        if not self.path.startswith(prefix):
            return None
        revision, _, name = self.path[len(prefix):].partition("/")
        return self.files.get(name) if revision in (self.commit, "main") else None

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(body)

    def do_HEAD(self):  # noqa: N802 (http.server's names)
        self.asked.append(f"{self.command} {self.path}")
        if self.path.startswith(f"/api/models/{self.repo}"):
            body = json.dumps({"id": self.repo, "sha": self.commit}).encode()
            return self._send(200, body, {"Content-Type": "application/json"})
        data = self._file()
        if data is None:
            return self._send(404, b"{}", {"X-Error-Code": "EntryNotFound"})
        etag = f'"{hashlib.sha1(data).hexdigest()}"'
        self._send(200, data, {"X-Repo-Commit": self.commit, "ETag": etag})

    do_GET = do_HEAD

    def log_message(self, *args):
        pass


@pytest.fixture
def hub(shared):
    """A local Hub serving ``shared`` as :data:`REPO`: its address and the paths asked for."""
    handler = type("Hub", (FakeHub,), {"files": {p.name: p.read_bytes() for p in shared.iterdir()}, "asked": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler.asked
    server.shutdown()
    server.server_close()


def test_a_repo_is_fetched_from_the_hub_then_served_from_the_cache(memory_rec, tmp_path, monkeypatch, hub):
    endpoint, asked = hub
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    again = Recommender.from_pretrained(REPO, memory_rec.store, cache_dir=tmp_path / "hub", endpoint=endpoint)
    same_service(memory_rec, again)
    fetched = {path.rsplit("/", 1)[-1] for path in asked if "/resolve/" in path}
    assert fetched == {"config.json", "model.safetensors"}  # not the card, nothing else
    weights = [path for path in asked if path.endswith("/model.safetensors")]
    assert weights and all(f"/resolve/{FakeHub.commit}/" in path for path in weights)  # the config's commit
    asked.clear()
    offline = Recommender.from_pretrained(
        REPO, memory_rec.store, cache_dir=tmp_path / "hub", endpoint=endpoint, local_files_only=True
    )
    same_service(memory_rec, offline)
    assert asked == []
