"""Checkpoints refuse what they cannot load exactly, with the file and the field named: a
missing, corrupt or edited file, hparams out of range, weights that do not fit the config, a
graph other than the one the model was trained on."""

from __future__ import annotations

import json

import pytest
import torch

from kgrec import Interaction, MemoryGraphStore, NodeLabel, Triple
from kgrec.errors import CheckpointError, InvalidValueError
from kgrec.models import MODELS, KGRecModel, training_graph
from kgrec.recommender import Recommender
from kgrec.train import load_checkpoint, save_checkpoint
from tests.graph.graphs import random_graph


@pytest.fixture
def trained(planted_snapshot):
    torch.manual_seed(0)
    graph = training_graph(planted_snapshot)
    return graph, KGRecModel(graph, channels=8).eval()


@pytest.fixture
def saved(trained, tmp_path):
    graph, model = trained
    return save_checkpoint(model, tmp_path / "ckpt", graph, {"note": "test"})


def logits(model):
    with torch.no_grad():
        return model.eval()(torch.arange(model.num_users))


def edit_config(directory, change):
    path = directory / "config.json"
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))


def test_unchanged_checkpoint_loads_with_identical_logits(trained, saved):
    graph, model = trained
    assert torch.equal(logits(load_checkpoint(saved, graph)), logits(model))


def test_changed_edge_is_refused(trained, saved, planted_snapshot):
    graph, _ = trained
    other = training_graph(planted_snapshot)
    edges = other["item", "has_genre", "entity"].edge_index.clone()
    edges[1, 0] = (edges[1, 0] + 1) % other["entity"].num_nodes  # one item, another genre
    other["item", "has_genre", "entity"].edge_index = edges
    with pytest.raises(CheckpointError, match=r"config.json was trained on a different graph: edges item-has_genre->entity differ$"):
        load_checkpoint(saved, other)


def test_flipped_weight_bytes_are_refused(trained, saved):
    graph, _ = trained
    weights = saved / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0xFF  # inside the last tensor: still parses, other values
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"model.safetensors: its SHA-256 .* weights_sha256"):
        load_checkpoint(saved, graph)


def truncate(directory):
    weights = directory / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])


def corrupt_with_matching_hash(directory):
    import hashlib

    garbage = b"\x10\x00\x00\x00\x00\x00\x00\x00{not a header}"
    (directory / "model.safetensors").write_bytes(garbage)
    edit_config(directory, lambda c: c.update(weights_sha256=hashlib.sha256(garbage).hexdigest()))


def set_hparam(key, value):
    return lambda d: edit_config(d, lambda c: c["hparams"].__setitem__(key, value))


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda d: (d / "config.json").unlink(), r"config.json: file missing"),
        (lambda d: (d / "model.safetensors").unlink(), r"model.safetensors: file missing"),
        (truncate, r"model.safetensors: its SHA-256 .* weights_sha256"),
        (corrupt_with_matching_hash, r"model.safetensors: not a readable safetensors file"),
        (lambda d: (d / "config.json").write_text('{"model": "KGRecModel",'), r"config.json: invalid JSON"),
        (lambda d: (d / "config.json").write_text("[1, 2]"), r"config.json: must hold a JSON object"),
        (lambda d: edit_config(d, lambda c: c.update(surprise=1)), r"config.json: unknown field\(s\) 'surprise'"),
        (lambda d: edit_config(d, lambda c: c.pop("weights_sha256")), r"config.json: field\(s\) \['weights_sha256'\] missing"),
        (lambda d: edit_config(d, lambda c: c.update(model="Nope")), r"config.json: field model must be one of"),
        (lambda d: edit_config(d, lambda c: c.update(model=["KGRecModel"])), r"config.json: field model must be one of"),
        (lambda d: edit_config(d, lambda c: c.update(graph=[1])), r"config.json: field graph must map strings"),
        (lambda d: edit_config(d, lambda c: c.update(weights_sha256="abc")), r"config.json: field weights_sha256 must be 64"),
        (lambda d: edit_config(d, lambda c: c.update(extra=3)), r"config.json: field extra must be an object"),
        (lambda d: edit_config(d, lambda c: c.update(hparams=[])), r"config.json: field hparams must be an object"),
        (set_hparam("dropout", 0.1), r"config.json: field hparams has unknown key\(s\) 'dropout'"),
        (lambda d: edit_config(d, lambda c: c["hparams"].pop("temperature")), r"config.json: field hparams lacks key\(s\) \['temperature'\]"),
        (set_hparam("channels", 10**9), r"config.json: field hparams.channels must be an int >= 1 and <= 4096, got 1000000000"),
        (set_hparam("channels", "64"), r"config.json: field hparams.channels must be an int"),
        (set_hparam("channels", True), r"config.json: field hparams.channels must be an int"),
        (set_hparam("num_layers", -1), r"config.json: field hparams.num_layers must be an int >= 0"),
        (set_hparam("temperature", 0), r"config.json: field hparams.temperature must be a float > 0"),
        (set_hparam("temperature", "inf"), r"config.json: field hparams.temperature must be a float"),
        (set_hparam("feature_mode", "magic"), r"config.json: field hparams.feature_mode must be one of \['fused', 'text', 'id'\]"),
        (set_hparam("cosine", 1), r"config.json: field hparams.cosine must be true or false"),
        (set_hparam("channels", 16), r"model.safetensors does not fit the KGRecModel that config.json describes: tensor '.*' has shape \[\d+, 8\], .* expects \[\d+, 16\]"),
        (set_hparam("use_relation_vectors", False), r"model.safetensors does not fit .*tensor 'scorer.relation_keys' has shape \[2, 8\]"),
    ],
)
def test_damaged_checkpoints_are_refused_naming_file_and_field(trained, saved, damage, match):
    graph, _ = trained
    damage(saved)
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(saved, graph)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_declares_the_hparams_it_saves(planted_snapshot, name):
    cls = MODELS[name]
    model = cls(training_graph(planted_snapshot))
    assert set(cls.HPARAMS) == set(model.hparams())
    cls.check_hparams(model.hparams())  # the defaults are allowed


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda g: KGRecModel(g, channels=10**9), r"hparams.channels must be an int >= 1 and <= 4096"),
        (lambda g: KGRecModel(g, temperature=0.0), r"hparams.temperature must be a float > 0"),
        (lambda g: MODELS["LightGCNRanker"](g, num_layers=-1), r"hparams.num_layers"),
        (lambda g: MODELS["MatrixFactorization"](g, channels=0), r"hparams.channels"),
    ],
)
def test_models_refuse_hparams_out_of_range_before_allocating(planted_snapshot, build, match):
    with pytest.raises(InvalidValueError, match=match):
        build(training_graph(planted_snapshot))


# -- serving checkpoints (Recommender.save / from_checkpoint) ----------------------------------


def text_recommender(store):
    """A recommender whose KGRecModel was built with text vectors on every node type."""
    random_graph(store, seed=3, users=10, items=30, entities=6)
    snapshot = store.snapshot()
    torch.manual_seed(0)
    text = {t: torch.randn(snapshot.num_nodes(t), 12) for t in snapshot.node_ids}
    model = KGRecModel(training_graph(snapshot, text), channels=8)
    return Recommender(model, store, snapshot)


def no_encoder(monkeypatch):
    """Fail the test if anything loads a text encoder."""

    def refuse(*args, **kwargs):
        raise AssertionError("a text encoder was loaded")

    monkeypatch.setattr("kgrec.text.encoder.TextEncoder.__init__", refuse)


@pytest.mark.parametrize("text_model", [None, "default", "sentence-transformers/all-MiniLM-L6-v2"])
def test_serving_checkpoint_uses_the_saved_text_vectors(tmp_path, monkeypatch, text_model):
    no_encoder(monkeypatch)
    store = MemoryGraphStore()
    rec = text_recommender(store)
    rec.save(tmp_path / "ckpt", text_model=text_model)
    again = Recommender.from_checkpoint(tmp_path / "ckpt", store)
    users = rec.snapshot.node_ids["user"]
    assert torch.equal(again.logits(users), rec.logits(users))


def test_serving_checkpoint_refuses_a_store_whose_edges_changed(tmp_path, store):
    rec = text_recommender(store)
    rec.save(tmp_path / "ckpt")
    Recommender.from_checkpoint(tmp_path / "ckpt", store)  # unchanged: loads
    directed = {n.node.id for n in store.neighbours("Item", "0", relation="director")}
    entity = next(e for e in rec.snapshot.node_ids["entity"] if e not in directed)
    store.upsert_triples([Triple("0", "director", entity, NodeLabel.ITEM)])  # one new edge
    with pytest.raises(CheckpointError, match=r"config.json was trained on a different graph: edges item-director->entity differ$"):
        Recommender.from_checkpoint(tmp_path / "ckpt", store)


def test_serving_checkpoint_refuses_a_store_whose_interactions_changed(tmp_path):
    store = MemoryGraphStore()
    rec = text_recommender(store)
    rec.save(tmp_path / "ckpt")
    seen = {n.node.id for n in store.neighbours("User", "u0", relation="INTERACTED")}
    unseen = next(i for i in rec.snapshot.node_ids["item"] if i not in seen)
    store.upsert_interactions([Interaction("u0", unseen, split="valid")])
    Recommender.from_checkpoint(tmp_path / "ckpt", store)  # held-out rows do not touch the model
    store.upsert_interactions([Interaction("u0", unseen, split="train")])
    with pytest.raises(CheckpointError, match=r"different graph: train interactions differ$"):
        Recommender.from_checkpoint(tmp_path / "ckpt", store)


def set_serving(key, value):
    return lambda d: edit_config(d, lambda c: c["extra"]["serving"].__setitem__(key, value))


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda d: edit_config(d, lambda c: c["extra"].pop("serving")), r"config.json: field extra.serving missing: not a kgrec serving checkpoint"),
        (set_serving("text_model", "/no/such/folder"), r"config.json: field extra.serving.text_model must be None, 'default', a Hugging Face model name or an existing folder, got '/no/such/folder'"),
        (set_serving("text_model", "../no/such/model"), r"config.json: field extra.serving.text_model"),
        (set_serving("text_model", 7), r"config.json: field extra.serving.text_model"),
        (set_serving("with_kg", "yes"), r"config.json: field extra.serving.with_kg must be true or false"),
        (set_serving("snapshot", "abc"), r"config.json: field extra.serving.snapshot must map strings"),
        (set_serving("extra_field", 1), r"config.json: field extra.serving must be an object with the fields"),
    ],
)
def test_damaged_serving_sections_are_refused(tmp_path, damage, match):
    store = MemoryGraphStore()
    text_recommender(store).save(tmp_path / "ckpt")
    damage(tmp_path / "ckpt")
    with pytest.raises(CheckpointError, match=match):
        Recommender.from_checkpoint(tmp_path / "ckpt", store)


def test_save_checks_text_model(tmp_path):
    rec = text_recommender(MemoryGraphStore())
    with pytest.raises(InvalidValueError, match="text_model .* got '/no/such/folder'"):
        rec.save(tmp_path / "ckpt", text_model="/no/such/folder")
    rec.save(tmp_path / "ckpt", text_model=str(tmp_path))  # an existing folder is fine
