"""``kgrec train``: fit kgrec's model on the store's graph from a TOML config, save a checkpoint.

The config (see ``examples/train.toml``) has up to three tables, each key checked:
``[train]`` takes :class:`~kgrec.train.TrainConfig`'s fields, ``[model]``
:class:`~kgrec.models.KGRecModel`'s hyperparameters (its ``HPARAMS``), ``[text]`` ``model``:
the text encoder of the node features (``"default"``: the packaged all-MiniLM-L6-v2, a Hugging
Face model name or a folder). Missing keys keep their defaults: for [train], kgrec's chosen
training (:data:`~kgrec.train.KGREC_TRAINING`) over ``TrainConfig``'s.

Under ``torchrun`` the command trains data-parallel (see :mod:`kgrec.train.distributed`): rank 0
writes the store's feedback and the text cache before the other ranks read them, and alone
reports and saves the checkpoint.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from kgrec.cli.options import StoreOptions, opened_store, reported_errors, with_store
from kgrec.cli.toml_files import check_keys, field_names, read_toml
from kgrec.errors import DataFormatError, InvalidValueError, shown
from kgrec.graph import GraphStore

log = logging.getLogger(__name__)

#: Where text vectors are cached between runs (the text encoder's output, keyed by model and text).
DEFAULT_CACHE = Path.home() / ".cache" / "kgrec"


@dataclass(frozen=True)
class TrainFile:
    """A checked ``train.toml``: the trainer's settings, the model's hyperparameters given
    (the others keep the model's defaults) and the text model's name."""

    train: Any  # TrainConfig
    model: dict[str, Any] = field(default_factory=dict)
    text_model: str = "default"


def read_train_file(path: Path) -> TrainFile:
    """Parse and check ``path``; :class:`DataFormatError` names the file and the key for an
    unknown table or key or a value of the wrong type."""
    from kgrec.models import KGRecModel
    from kgrec.train import KGREC_TRAINING, TrainConfig
    from kgrec.train.checkpoint import check_text_model

    document = check_keys(path, "", read_toml(path), ("train", "model", "text"))
    train = dict(check_keys(path, "train", document.get("train", {}), field_names(TrainConfig)))
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    for key, value in train.items():
        _check_type(path, f"train.{key}", value, defaults[key])
    model = dict(check_keys(path, "model", document.get("model", {}), KGRecModel.HPARAMS))
    for key, value in model.items():
        rule = KGRecModel.HPARAMS[key]
        if not rule.accepts(value):
            raise DataFormatError(path, f"model.{key} must be {rule.describe()}, got {shown(value)}")
    text = check_keys(path, "text", document.get("text", {}), ("model",))
    try:
        text_model = check_text_model(text.get("model", "default"))
        config = TrainConfig(**{**KGREC_TRAINING, **train})
    except InvalidValueError as exc:
        raise DataFormatError(path, str(exc)) from None
    return TrainFile(config, model, text_model)


def _check_type(path: Path, key: str, value: object, default: object) -> None:
    """``value`` must have the type of the field's ``default`` (a float field takes an int;
    ``device`` a string)."""
    if key == "train.loss":
        from kgrec.train import LOSSES

        if value not in LOSSES:
            raise DataFormatError(path, f"{key} must be one of {sorted(LOSSES)}, got {shown(value)}")
        return
    kind = str if default is None else type(default)
    kinds = (int, float) if kind is float else (kind,)
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kinds):
        raise DataFormatError(
            path, f"{key} must be {'a' if kind is not int else 'an'} {kind.__name__}, got {shown(value)}"
        )


EXAMPLES = (
    "Examples: kgrec train --config examples/train.toml --out runs/ml100k --graph stores/ml100k  |  "
    "kgrec train --config examples/train.toml --out runs/ml100k --graph stores/ml100k --resume "
    "(continue from runs/ml100k on the store's current interactions)  |  "
    "torchrun --standalone --nproc_per_node 2 -m kgrec.cli train --config examples/train.toml "
    "--out runs/ml100k --graph stores/ml100k (data-parallel on 2 processes or GPUs)"
)


@with_store
def train(
    config: Annotated[
        Path,
        typer.Option(
            help="the TOML training config (see examples/train.toml)",
            exists=True,
            dir_okay=False,
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="checkpoint folder to write (config.json, model.safetensors, node_ids.json, curves.png)",
            file_okay=False,
            show_default=False,
        ),
    ],
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="start from the checkpoint in --out: its weights for the nodes it knows, "
            "fresh ones for new nodes",
        ),
    ] = False,
    learn_feedback: Annotated[
        bool,
        typer.Option(
            help="first make the store's positive feedback events (likes, good ratings, watches) train "
            "interactions, written to the store, so the model learns them"
        ),
    ] = True,
    cache_dir: Annotated[Path, typer.Option(envvar="KGREC_CACHE", help="text vector cache")] = DEFAULT_CACHE,
    store: StoreOptions = StoreOptions(),
) -> None:
    """Train kgrec's model on the store's train interactions; save a serving checkpoint.

    Model selection uses the valid split (early stopping); scores are calibrated on it when it
    has interactions. With --resume, the model's hyperparameters are the checkpoint's, updated
    by the config's [model] table.
    """
    with reported_errors("train"):
        settings = read_train_file(config)
        if resume and not (out / "config.json").is_file():
            raise typer.BadParameter(f"--resume: no checkpoint in {out}", param_hint="--out")
        with opened_store(store) as graph_store:
            _train(graph_store, settings, out, resume, learn_feedback, cache_dir)


def _train(
    graph_store: GraphStore, settings: TrainFile, out: Path, resume: bool, learn_feedback: bool, cache_dir: Path
) -> None:
    from kgrec import Recommender
    from kgrec.models import KGRecModel, training_graph
    from kgrec.text import EmbeddingCache, TextEncoder, node_text_vectors
    from kgrec.train import Trainer, seed_everything
    from kgrec.train import resume as resuming
    from kgrec.models.base import resolve_device
    from kgrec.train.distributed import main_first, process_group

    with process_group(resolve_device(settings.train.device)) as topology:
        # Under torchrun, rank 0 writes the store's feedback and the text cache, then the
        # others read them; only rank 0 reports and saves.
        with main_first(topology):
            graph_store.sync()
            snapshot = graph_store.snapshot()
            learned = resuming.learn_feedback(graph_store, snapshot) if learn_feedback and topology.main else 0
            if learned:
                typer.echo(f"{learned} positive feedback events became train interactions")
                snapshot = graph_store.snapshot()
            encoder = TextEncoder(None if settings.text_model == "default" else settings.text_model)
            text = node_text_vectors(snapshot, EmbeddingCache(encoder, cache_dir))
        seed_everything(settings.train.seed)
        graph = training_graph(snapshot, text)
        if resume:
            model, report = resuming.resumed_model(out, graph, snapshot, settings.model)
            if topology.main:
                typer.echo(
                    f"Resumed from {out}: {len(report.loaded)} parameters carried over, new rows {report.new_rows}"
                )
        else:
            model = KGRecModel(graph, **settings.model)
        result = Trainer(model, snapshot, settings.train).fit(out)
    if not topology.main:
        return
    typer.echo(
        f"Trained {type(model).__name__}: best epoch {result.best_epoch}, valid "
        f"{settings.train.monitor} {result.best_valid.get(settings.train.monitor, float('nan')):.4f}, "
        f"{result.seconds_per_epoch:.1f}s/epoch"
    )
    model.cpu()
    recommender = Recommender(model, graph_store, snapshot, text_encoder=encoder)
    try:
        recommender.calibrate()
    except InvalidValueError as exc:
        log.warning("scores not calibrated: %s", exc)
    recommender.save(out, text_model=settings.text_model)
    resuming.save_node_ids(out, snapshot)
    typer.echo(f"Checkpoint in {out}")
