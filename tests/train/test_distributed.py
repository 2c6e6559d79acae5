"""Data-parallel training under torchrun: 2 CPU processes (gloo) train the planted graph; the
ranks end identical, the model learns, and it matches one process with the same global batch
(issue #14, item 3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from kgrec import Interaction, MemoryGraphStore
from kgrec.errors import InvalidValueError
from kgrec.models import KGRecModel, training_graph
from kgrec.train import RankingEvaluator, Trainer, TrainConfig, seed_everything
from kgrec.train.distributed import Topology, current_topology, user_shard
from tests.cli.conftest import TRAIN_TOML, invoke, movielens_files

#: The runs each rank makes, and one process repeats: 360 train pairs in global batches.
CONFIGS = {
    # Per-pair negatives, drawn per rank: the same objective with other draws.
    "per_pair": dict(epochs=12, batch_size=64, lr=0.01, num_negatives=4, patience=12),
    # Shared negatives are drawn alike on every rank and l2 = 0, so the averaged gradient is
    # the one-process gradient; 63 splits unevenly (32 + 31), so each slice's weight counts.
    "shared": dict(epochs=4, batch_size=63, lr=0.01, num_negatives=16, shared_negatives=True, l2=0.0),
}
COMMON = dict(progress=False, device="cpu")
CHANNELS = 16

#: Run by each rank: train each config in one process group, write weights, results and log;
#: then try to train on data that differs between the ranks.
RANK_SCRIPT = """
import dataclasses, json, logging, sys
from pathlib import Path
import torch
from kgrec.errors import KgrecError
from kgrec.models import KGRecModel, training_graph
from kgrec.train import Trainer, TrainConfig, seed_everything
from kgrec.train.distributed import process_group

snapshot_file, configs, channels, out = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
snapshot = torch.load(snapshot_file, weights_only=False)
with process_group(torch.device("cpu")) as topology:  # both fits use this group
    rank = topology.rank
    logging.basicConfig(level=logging.INFO, filename=out / f"log{rank}.txt")
    for name, config in configs.items():
        seed_everything(rank)  # other initial weights per rank: DDP must broadcast rank 0's
        model = KGRecModel(training_graph(snapshot), channels=channels)
        result = Trainer(model, snapshot, TrainConfig(**config)).fit(out / f"{name}{rank}")
        torch.save(model.state_dict(), out / f"{name}{rank}.pt")
        summary = {"history": result.history, "best_epoch": result.best_epoch, "best_valid": result.best_valid}
        (out / f"{name}{rank}.json").write_text(json.dumps(summary))
    renamed = dict(snapshot.node_ids, user=snapshot.node_ids["user"][:-1] + [f"rank {rank}'s user"])
    try:
        Trainer(model, dataclasses.replace(snapshot, node_ids=renamed), TrainConfig(**configs["shared"])).fit()
    except KgrecError as exc:
        (out / f"refused{rank}.txt").write_text(str(exc))
"""


def _model(snapshot) -> KGRecModel:
    seed_everything(0)
    return KGRecModel(training_graph(snapshot), channels=CHANNELS)


def _shape(snapshot) -> tuple[int, int]:
    return snapshot.num_nodes("user"), snapshot.num_nodes("item")


def _one_process(snapshot, name: str) -> dict:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread like each rank: on a busy 2-core box, 2 are 10x slower
    try:
        result = Trainer(_model(snapshot), snapshot, TrainConfig(**CONFIGS[name], **COMMON)).fit()
    finally:
        torch.set_num_threads(threads)
    return {"history": result.history, "best_epoch": result.best_epoch, "best_valid": result.best_valid}


def _torchrun(*args: str | Path) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc_per_node 2 ARGS`` on CPU, one thread per rank."""
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env = {k: v for k, v in env.items() if not k.startswith("KGREC_")} | {"OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    done = subprocess.run(command + [str(a) for a in args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def two_ranks(planted_snapshot, tmp_path_factory):
    """The folder where 2 torchrun ranks on CPU wrote ``{config}{rank}.json`` / ``.pt``."""
    out = tmp_path_factory.mktemp("ddp")
    torch.save(planted_snapshot, out / "snapshot.pt")
    (out / "rank.py").write_text(RANK_SCRIPT)
    configs = {name: {**config, **COMMON} for name, config in CONFIGS.items()}
    _torchrun(out / "rank.py", out / "snapshot.pt", json.dumps(configs), str(CHANNELS), out)
    return out


def _result(out, name: str, rank: int) -> dict:
    return json.loads((out / f"{name}{rank}.json").read_text())


@pytest.mark.parametrize("name", CONFIGS)
def test_ranks_end_with_identical_weights_and_results(two_ranks, name):
    first, second = (torch.load(two_ranks / f"{name}{rank}.pt") for rank in range(2))
    assert first.keys() == second.keys()
    different = [key for key in first if not torch.equal(first[key], second[key])]
    assert not different, different
    results = [_result(two_ranks, name, rank) for rank in range(2)]
    for result in results:
        for row in result["history"]:
            del row["seconds"]
    assert results[0] == results[1]  # same losses, metrics, early stopping and best epoch


def test_ranks_with_different_snapshots_are_refused_before_training(two_ranks):
    for rank in range(2):
        assert "the ranks have different snapshots" in (two_ranks / f"refused{rank}.txt").read_text()


def test_only_rank_0_logs_and_writes_curves(two_ranks):
    assert "epoch 1 loss" in (two_ranks / "log0.txt").read_text()
    assert "epoch 1 loss" not in (two_ranks / "log1.txt").read_text()
    assert (two_ranks / "per_pair0" / "curves.png").stat().st_size > 0
    assert not (two_ranks / "per_pair1").exists()


def test_two_ranks_train_like_one_process_with_the_same_global_batch(two_ranks, planted_snapshot):
    result = _result(two_ranks, "per_pair", 0)
    losses = [row["loss"] for row in result["history"]]
    assert losses[-1] < 0.5 * losses[0], losses

    evaluator = RankingEvaluator(planted_snapshot.interactions, *_shape(planted_snapshot))
    untrained = evaluator.evaluate(_model(planted_snapshot), "valid")["ndcg@20"]
    trained = _model(planted_snapshot)
    trained.load_state_dict(torch.load(two_ranks / "per_pair0.pt"))
    ndcg = evaluator.evaluate(trained, "valid")["ndcg@20"]
    # The ranks' sharded evaluation is the full evaluation, summed another way.
    assert ndcg == pytest.approx(result["best_valid"]["ndcg@20"], abs=1e-9)
    assert ndcg > untrained + 0.15, (ndcg, untrained)

    single = _one_process(planted_snapshot, "per_pair")["best_valid"]
    # Same objective and global batch, other negatives: close, not equal (60 valid users).
    assert ndcg == pytest.approx(single["ndcg@20"], abs=0.1), (ndcg, single)
    assert result["best_valid"]["users"] == single["users"] == 60


def test_with_the_same_negatives_two_ranks_follow_one_process(two_ranks, planted_snapshot):
    ranks = _result(two_ranks, "shared", 0)["history"]
    single = _one_process(planted_snapshot, "shared")["history"]
    assert len(ranks) == len(single) == CONFIGS["shared"]["epochs"]
    for ours, theirs in zip(ranks, single):  # equal up to float summation order
        assert ours["loss"] == pytest.approx(theirs["loss"], rel=1e-5)
        assert ours["ndcg@20"] == pytest.approx(theirs["ndcg@20"], abs=1e-5)


def test_kgrec_train_under_torchrun_learns_the_feedback_and_saves_once(tmp_path):
    data = movielens_files(tmp_path / "data")
    graph, checkpoint, config = tmp_path / "store", tmp_path / "checkpoint", tmp_path / "train.toml"
    config.write_text(TRAIN_TOML)
    loaded = invoke(
        "load", "ml100k", data.data_dir, "--kg-dir", data.kg_dir, "--split-file", data.split_file, "--graph", graph
    )
    assert loaded.exit_code == 0, loaded.output
    MemoryGraphStore.open(graph).upsert_interactions(
        [Interaction("1", "30", None, 1.0, 99, "feedback", kind="like", source="api")]
    )
    done = _torchrun(
        "-m", "kgrec.cli", "train", "--config", config, "--out", checkpoint, "--graph", graph,
        "--cache-dir", tmp_path / "cache",
    )
    # Rank 0 alone rewrites the feedback and reports; rank 1 trains on the store it wrote.
    assert done.stdout.count("1 positive feedback events became train interactions") == 1, done.stdout
    assert done.stdout.count("Trained KGRecModel") == done.stdout.count("Checkpoint in") == 1, done.stdout
    assert {"config.json", "model.safetensors", "node_ids.json", "curves.png"} <= {f.name for f in checkpoint.iterdir()}
    splits = {r.item: r.split for r in MemoryGraphStore.open(graph).user_interactions(["1"])["1"]}
    assert splits["30"] == "train"
    shown = invoke("recommend", "1", "--checkpoint", checkpoint, "--graph", graph)  # the checkpoint fits the store
    assert shown.exit_code == 0, shown.output


def test_user_shards_partition_the_interactions(planted_snapshot):
    table = planted_snapshot.interactions
    shards = [user_shard(table, Topology(rank, 3)) for rank in range(3)]
    assert sum(s.user.numel() for s in shards) == table.user.numel()
    for rank, shard in enumerate(shards):
        assert bool((shard.user % 3 == rank).all()) and shard.split.numel() == shard.user.numel()


def test_topology_from_torchrun_environment(monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    topology = current_topology()
    assert (topology.rank, topology.world_size, topology.distributed, topology.main) == (1, 2, True, False)
    assert topology.device(torch.device("cuda")) == torch.device("cuda", 1)
    assert topology.device(torch.device("cpu")) == torch.device("cpu")
    monkeypatch.setenv("RANK", "2")
    with pytest.raises(InvalidValueError, match="RANK=2, WORLD_SIZE=2"):
        current_topology()
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(InvalidValueError, match="WORLD_SIZE"):
        current_topology()
