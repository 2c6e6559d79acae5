"""Resuming from a checkpoint on a grown graph (kgrec.train.resume): trained rows follow their
node ids to their new rows, new nodes keep a fresh initialization, and the saved ids are
checked against the checkpoint."""

from __future__ import annotations

import json

import pytest
import torch

from kgrec import CheckpointError, MemoryGraphStore, Recommender
from kgrec.models import KGRecModel, training_graph
from kgrec.train.resume import NODE_IDS_FILE, resumed_model, save_node_ids


def small_store() -> MemoryGraphStore:
    store = MemoryGraphStore()
    store.upsert_nodes("User", [{"id": u} for u in ("2", "5", "9")])
    store.upsert_nodes("Item", [{"id": i} for i in ("a", "b", "c", "d")])
    store.upsert_nodes("Entity", [{"id": "g"}])
    store.upsert_interactions(
        [{"user": u, "item": i} for u, i in (("2", "a"), ("5", "b"), ("9", "c"), ("9", "a"))]
    )
    store.upsert_triples(
        [{"head": i, "relation": "has_genre", "tail": "g", "head_label": "Item"} for i in ("a", "c")]
    )
    return store


@pytest.fixture
def saved(tmp_path):
    """A store, the model saved from it (random weights: what matters is where rows go) and
    its checkpoint folder."""
    store = small_store()
    snapshot = store.snapshot()
    torch.manual_seed(0)
    model = KGRecModel(training_graph(snapshot, None), channels=8, attention_channels=8)
    Recommender(model, store, snapshot).save(tmp_path / "ck")
    save_node_ids(tmp_path / "ck", snapshot)
    return store, model, tmp_path / "ck"


def grow(store: MemoryGraphStore) -> None:
    """A user and an item that sort before the old ones: every old row moves."""
    store.upsert_nodes("User", [{"id": "1"}])
    store.upsert_nodes("Item", [{"id": "0"}])
    store.upsert_interactions([{"user": "1", "item": "a"}, {"user": "1", "item": "0"}])


def test_trained_rows_follow_their_ids_and_new_rows_are_freshly_initialized(saved):
    store, old, checkpoint = saved
    grow(store)
    snapshot = store.snapshot()
    torch.manual_seed(1)
    model, report = resumed_model(checkpoint, training_graph(snapshot, None), snapshot)
    assert report.new_rows == {"user": 1, "item": 1, "entity": 0} and report.fresh == []
    trained = old.state_dict()
    for t, old_ids in (("user", ["2", "5", "9"]), ("item", ["a", "b", "c", "d"])):
        table = model.state_dict()[f"features.id_emb.{t}.weight"]
        rows = snapshot.index_of(t, old_ids)
        assert torch.equal(table[rows], trained[f"features.id_emb.{t}.weight"])
        assert rows.tolist() == [1, 2, 3, 4][: len(old_ids)]  # the new node took row 0
        assert table[0].abs().sum() > 0 and not any(
            torch.equal(table[0], r) for r in trained[f"features.id_emb.{t}.weight"]
        )
    assert torch.equal(model.state_dict()["scorer.query.weight"], trained["scorer.query.weight"])


def test_other_hyperparameters_leave_what_no_longer_fits_fresh(saved):
    store, _, checkpoint = saved
    snapshot = store.snapshot()
    model, report = resumed_model(checkpoint, training_graph(snapshot, None), snapshot, {"channels": 16})
    assert model.hparams()["channels"] == 16
    assert "features.id_emb.user.weight" in report.fresh and "scorer.relation_weight" in report.loaded


def test_without_saved_ids_only_the_same_nodes_resume(saved):
    store, old, checkpoint = saved
    (checkpoint / NODE_IDS_FILE).unlink()
    store.upsert_interactions([{"user": "2", "item": "d"}])  # new interactions, the same nodes
    snapshot = store.snapshot()
    model, _ = resumed_model(checkpoint, training_graph(snapshot, None), snapshot)
    assert torch.equal(
        model.state_dict()["features.id_emb.user.weight"], old.state_dict()["features.id_emb.user.weight"]
    )
    grow(store)
    snapshot = store.snapshot()
    with pytest.raises(
        CheckpointError, match=f"{NODE_IDS_FILE}: missing, and the graph's user, item ids changed"
    ):
        resumed_model(checkpoint, training_graph(snapshot, None), snapshot)


def test_edited_saved_ids_are_refused(saved):
    store, _, checkpoint = saved
    path = checkpoint / NODE_IDS_FILE
    ids = json.loads(path.read_text())
    ids["user"] = ids["user"][::-1]
    path.write_text(json.dumps(ids))
    snapshot = store.snapshot()
    with pytest.raises(CheckpointError, match="the user ids are not those config.json records"):
        resumed_model(checkpoint, training_graph(snapshot, None), snapshot)
