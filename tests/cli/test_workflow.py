"""load -> train -> evaluate -> recommend / explain -> train --resume, from the command line,
on the embedded store's folder (and on Neo4j); and the train config's checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kgrec import Interaction, MemoryGraphStore, Recommender
from kgrec.train import RankingEvaluator
from tests.cli.conftest import TRAIN_TOML, flat, invoke, movielens_files

ROOT = Path(__file__).resolve().parents[2]
REFEREE = ROOT.parent / "shared" / "benchmarks" / "referee.py"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``(data, store folder, checkpoint folder, config)``: the CLI's load and train, once."""
    base = tmp_path_factory.mktemp("workflow")
    data = movielens_files(base / "data")
    config = base / "train.toml"
    config.write_text(TRAIN_TOML)
    graph, checkpoint = base / "store", base / "checkpoint"
    result = invoke(
        "load",
        "ml100k",
        data.data_dir,
        "--kg-dir",
        data.kg_dir,
        "--split-file",
        data.split_file,
        "--graph",
        graph,
    )
    assert result.exit_code == 0, result.output
    result = invoke(
        "train", "--config", config, "--out", checkpoint, "--graph", graph, "--cache-dir", base / "cache"
    )
    assert result.exit_code == 0, result.output
    assert "Trained KGRecModel" in result.output
    return data, graph, checkpoint, config


def test_train_writes_a_calibrated_serving_checkpoint_of_the_store(trained):
    _, graph, checkpoint, _ = trained
    assert {"config.json", "model.safetensors", "node_ids.json", "curves.png"} <= {
        p.name for p in checkpoint.iterdir()
    }
    rec = Recommender.from_checkpoint(checkpoint, MemoryGraphStore.open(graph))
    assert rec.calibration is not None and rec.model.hparams()["channels"] == 8


@pytest.mark.parametrize("phase", ["test", "valid"])
def test_evaluate_prints_full_ranking_metrics_and_writes_the_referees_top_k_file(trained, phase):
    data, graph, checkpoint, _ = trained
    result = invoke(
        "evaluate", checkpoint, "--phase", phase, "--k", "5", "--k", "10", "--json", "--graph", graph
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout[result.stdout.index("{") :])
    top_k = Path(printed["top_k_file"])
    assert top_k == checkpoint / f"top_k_{phase}.tsv"
    rec = Recommender.from_checkpoint(checkpoint, MemoryGraphStore.open(graph))
    expected = RankingEvaluator(
        rec.snapshot.interactions, rec.model.num_users, rec.model.num_items, ks=(5, 10)
    ).evaluate(rec.model, phase)
    assert printed["ndcg@10"] == pytest.approx(expected["ndcg@10"]) and printed["users"] == 12
    rows = [line.split("\t") for line in top_k.read_text().splitlines()]
    assert rows[0] == ["user_id", "item_id", "rank"] and len(rows) == 1 + 12 * 10
    if not REFEREE.is_file():
        pytest.skip(f"the referee is not at {REFEREE}")
    refereed = subprocess.run(
        [sys.executable, REFEREE, data.split_file, top_k, "--phase", phase, "--k", "5", "10"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    scores = dict(line.split("\t") for line in refereed.splitlines())
    for name in ("recall@5", "ndcg@5", "recall@10", "ndcg@10"):
        assert float(scores[name]) == pytest.approx(printed[name], abs=1e-6)


def test_recommend_gives_the_recommenders_unseen_top_k_as_json_and_text(trained):
    _, graph, checkpoint, _ = trained
    result = invoke("recommend", "3", "--k", "4", "--json", "--checkpoint", checkpoint, "--graph", graph)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout[result.stdout.index("[") :])
    rec = Recommender.from_checkpoint(checkpoint, MemoryGraphStore.open(graph))
    assert [r["item_id"] for r in shown] == [r.item_id for r in rec.recommend("3", k=4, explain=False)]
    assert [r["rank"] for r in shown] == [1, 2, 3, 4] and not set(rec.seen_items("3")) & {
        r["item_id"] for r in shown
    }
    assert all(r["explanation"] is None for r in shown)
    text = invoke("recommend", "3", "--k", "2", "--explain", "--checkpoint", checkpoint, "--graph", graph)
    assert text.exit_code == 0 and "main reason" in text.output and "chance you like it" in text.output


def test_explain_gives_the_paths_of_any_item(trained):
    _, graph, checkpoint, _ = trained
    rec = Recommender.from_checkpoint(checkpoint, MemoryGraphStore.open(graph))
    item = rec.seen_items("2")[0]
    result = invoke("explain", "2", item, "--json", "--checkpoint", checkpoint, "--graph", graph)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout[result.stdout.index("{") :])
    expected = rec.explain("2", item)
    assert shown["sentence"] == expected.sentence and len(shown["paths"]) == len(expected.paths) > 0
    assert shown["paths"][0]["nodes"][0] == {"label": "User", "id": "2", "name": None}


@pytest.mark.parametrize("args", [["recommend", "nobody"], ["explain", "1", "no-such-item"]])
def test_an_unknown_id_is_a_one_line_error(trained, args):
    _, graph, checkpoint, _ = trained
    result = invoke(*args, "--checkpoint", checkpoint, "--graph", graph)
    assert result.exit_code == 1 and "Error: unknown" in result.output and "Traceback" not in result.output


def test_resume_learns_the_new_users_and_interactions_of_the_store(trained, tmp_path):
    data, graph, checkpoint, config = trained
    store_copy, resumed = tmp_path / "store", tmp_path / "resumed"
    store_copy.mkdir()
    for f in graph.iterdir():
        (store_copy / f.name).write_bytes(f.read_bytes())
    for f in checkpoint.iterdir():
        resumed.mkdir(exist_ok=True)
        (resumed / f.name).write_bytes(f.read_bytes())
    store = MemoryGraphStore.open(store_copy)
    store.upsert_nodes("User", [{"id": "new", "text": "a new user"}])
    store.upsert_interactions([{"user": "new", "item": i} for i in ("1", "2", "3")])
    feedback = [  # as kgrec.feedback writes them: a like, a dislike
        Interaction("1", "30", None, 1.0, 99, "feedback", kind="like", source="api"),
        Interaction("1", "29", None, -1.0, 99, "feedback", kind="dislike", source="api"),
    ]
    known = {r.item for r in store.user_interactions(["1"])["1"]}
    assert not known & {"29", "30"}
    store.upsert_interactions(feedback)
    result = invoke(
        "train",
        "--config",
        config,
        "--out",
        resumed,
        "--resume",
        "--graph",
        store_copy,
        "--cache-dir",
        tmp_path / "cache",
    )
    assert result.exit_code == 0, result.output
    assert "new rows {'user': 1, 'item': 0, 'entity': 0}" in result.output
    assert "1 positive feedback events became train interactions" in result.output
    splits = {r.item: r.split for r in MemoryGraphStore.open(store_copy).user_interactions(["1"])["1"]}
    assert (splits["30"], splits["29"]) == ("train", "feedback")
    shown = invoke("recommend", "new", "--json", "--checkpoint", resumed, "--graph", store_copy)
    assert shown.exit_code == 0 and {"1", "2", "3"}.isdisjoint(
        r["item_id"] for r in json.loads(shown.stdout[shown.stdout.index("[") :])
    )
    # the old checkpoint no longer fits the grown graph
    stale = invoke("recommend", "1", "--checkpoint", checkpoint, "--graph", store_copy)
    assert stale.exit_code == 1 and "trained on a different graph" in stale.output


def test_resume_needs_a_checkpoint_in_out(trained, tmp_path):
    _, graph, _, config = trained
    result = invoke("train", "--config", config, "--out", tmp_path / "none", "--resume", "--graph", graph)
    assert result.exit_code == 2 and f"--resume: no checkpoint in {tmp_path / 'none'}" in flat(result.output)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("[train]\nepoch = 3\n", "unknown key 'train.epoch': expected one of ["),
        ("[model]\nchannel = 8\n", "unknown key 'model.channel'"),
        ("[optimizer]\n", "unknown key 'optimizer'"),
        ("[train]\nepochs = '3'\n", "train.epochs must be an int, got '3'"),
        ("[train]\nlr = true\n", "train.lr must be a float, got True"),
        ("[train]\nloss = 'mse'\n", "train.loss must be one of ['bce', 'bpr', 'softmax']"),
        ("[model]\nchannels = 0\n", "model.channels must be an int >= 1"),
        ("[text]\nmodel = '../no such model'\n", "text_model must be None, 'default'"),
        ("[train\n", "invalid TOML"),
    ],
)
def test_a_bad_config_names_the_file_and_the_key_before_opening_the_store(tmp_path, text, problem):
    config = tmp_path / "train.toml"
    config.write_text(text)
    result = invoke("train", "--config", config, "--out", tmp_path / "out", "--graph", tmp_path / "g")
    assert result.exit_code == 1 and f"Error: {config}: " in result.output and problem in flat(result.output)
    assert not (tmp_path / "g").exists() and not (tmp_path / "out").exists()


def test_the_shipped_example_config_is_valid():
    from kgrec.cli.train import read_train_file

    settings = read_train_file(ROOT / "examples" / "train.toml")
    assert (
        settings.train.loss == "softmax"
        and settings.model["channels"] == 64
        and settings.text_model == "default"
    )


@pytest.mark.parametrize(
    "args, missing",
    [
        (["train", "--graph", "g"], "--config"),
        (["train", "--config", "examples/train.toml", "--graph", "g"], "--out"),
        (["evaluate", "--graph", "g"], "Missing argument 'checkpoint'"),
        (["recommend", "1", "--graph", "g"], "--checkpoint"),
        (["explain", "1", "2", "--graph", "g"], "--checkpoint"),
    ],
)
def test_no_command_but_the_demo_takes_a_path_from_the_current_directory(monkeypatch, args, missing):
    monkeypatch.chdir(ROOT)  # where runs/, examples/ and a checkpoint could be found
    result = invoke(*args)
    assert result.exit_code == 2 and missing in flat(result.output)


@pytest.mark.parametrize(
    "command", ["load", "train", "evaluate", "recommend", "explain", "serve", "demo", "mcp"]
)
def test_every_command_shows_examples_in_its_help(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0 and (
        "Example: kgrec" in flat(result.output)
        or "Examples: kgrec" in flat(result.output)
        or command == "load"
        and "ml100k" in result.output
    )


@pytest.mark.neo4j
def test_the_workflow_on_neo4j(neo4j_server, neo4j_store, trained, tmp_path):
    data, _, _, config = trained
    uri, _ = neo4j_server
    store = ["--store", "neo4j", "--neo4j-uri", uri]
    result = invoke(
        "load", "ml100k", data.data_dir, "--kg-dir", data.kg_dir, "--split-file", data.split_file, *store
    )
    assert result.exit_code == 0, result.output
    checkpoint = tmp_path / "checkpoint"
    result = invoke(
        "train", "--config", config, "--out", checkpoint, "--cache-dir", tmp_path / "cache", *store
    )
    assert result.exit_code == 0, result.output
    assert invoke("evaluate", checkpoint, *store).exit_code == 0
    shown = invoke("recommend", "1", "--k", "3", "--explain", "--json", "--checkpoint", checkpoint, *store)
    assert shown.exit_code == 0, shown.output
    recs = json.loads(shown.stdout[shown.stdout.index("[") :])
    assert len(recs) == 3 and all(r["explanation"]["paths"] for r in recs)
    assert invoke("explain", "1", recs[0]["item_id"], "--checkpoint", checkpoint, *store).exit_code == 0
