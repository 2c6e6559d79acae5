"""Data and helpers for the command-line tests: a MovieLens-format dataset large enough to
train and rank on (30 items, so the trainer's top-20 metrics have room), and a runner."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kgrec.cli import app
from tests.loaders.conftest import ML_FILES, MovieLensFiles, write_files

runner = CliRunner()

#: What the CLI tests train with: tiny and fast.
TRAIN_TOML = """\
[train]
epochs = 3
num_negatives = 4
batch_size = 32
progress = false
device = "cpu"

[model]
channels = 8
attention_channels = 8
"""


def invoke(*args: str | Path, env: dict[str, str | None] | None = None):
    """Run ``kgrec ARGS`` in process; ``KGREC_*`` variables of the environment are hidden."""
    hidden = {"KGREC_DATA": None, "KGREC_GRAPH": None, "KGREC_STORE": None, "KGREC_CHECKPOINT": None}
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200", **hidden, **(env or {})})


def flat(text: str) -> str:
    """Help text without its box drawing and line wrapping."""
    return re.sub(r"[\s│╭╮╰╯─]+", " ", text)


def movielens_files(base: Path, users: int = 12, items: int = 30, seed: int = 7) -> MovieLensFiles:
    """A MovieLens-100k-format folder (``ml/``), the small DBpedia KG folder of the loader tests
    (``kg/``, linking items 1, 2 and 4) and a split file (``split.tsv``): every user rates 9
    random items, 6 in train, then one valid and two test, timestamps in that order."""
    rng = random.Random(seed)
    genres = ["unknown", "Action", "Children's", "Comedy"]
    files = {name: content for name, content in ML_FILES.items() if name.startswith("kg/")}
    files["ml/u.genre"] = "".join(f"{g}|{k}\n" for k, g in enumerate(genres)) + "\n"
    files["ml/u.user"] = "".join(
        f"{u}|{20 + u}|{'MF'[u % 2]}|{['student', 'writer', 'other'][u % 3]}|0000{u}\n"
        for u in range(1, users + 1)
    )
    files["ml/u.item"] = "".join(
        f"{i}|Film {i} ({1980 + i})|01-Jan-{1980 + i}||http://x|"
        + "|".join("1" if g == i % 4 else "0" for g in range(4))
        + "\n"
        for i in range(1, items + 1)
    )
    rows, data = [], []
    for u in range(1, users + 1):
        chosen = rng.sample(range(1, items + 1), 9)
        for k, i in enumerate(chosen):
            split = "train" if k < 6 else "valid" if k == 6 else "test"
            rating, ts = rng.randint(3, 5), 880000000 + 1000 * u + k
            rows.append(f"{u}\t{i}\t{rating}\t{ts}\t{split}\n")
            data.append(f"{u}\t{i}\t{rating}\t{ts}\n")
    files["ml/u.data"] = "".join(data)
    files["split.tsv"] = "user_id\titem_id\trating\ttimestamp\tsplit\n" + "".join(rows)
    write_files(base, files)
    return MovieLensFiles(base / "ml", base / "kg", base / "split.tsv")


@pytest.fixture
def ml_files(tmp_path) -> MovieLensFiles:
    return movielens_files(tmp_path / "data")


@pytest.fixture
def train_toml(tmp_path) -> Path:
    path = tmp_path / "train.toml"
    path.write_text(TRAIN_TOML)
    return path
