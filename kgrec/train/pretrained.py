"""Checkpoints shared the Hugging Face way: ``save_pretrained`` and ``from_pretrained``.

A pretrained folder is a serving checkpoint (``config.json`` + ``model.safetensors``, see
:mod:`kgrec.train.checkpoint`) plus a ``README.md`` model card: Hugging Face metadata
(``library_name: kgrec``), the graph the model serves, its hparams, metrics if given and how to
load it. :class:`Pretrained` gives :class:`~kgrec.Recommender` the two methods with the
contract of huggingface_hub's ``ModelHubMixin`` (a local folder or a Hub repo id; ``revision``,
``cache_dir``, ``local_files_only``, ``token``, ``force_download``). They are plain methods, not
that mixin: a recommender is rebuilt on a graph store, which the mixin cannot pass (it fills
constructor arguments from ``config.json``'s keys, and kgrec's ``config.json`` has a ``model``
field that would collide with the constructor's ``model``).

Loading always goes through :func:`~kgrec.train.checkpoint.read_checkpoint` (safetensors only,
SHA-256 checked; never pickle). A repo id is resolved into the Hugging Face cache by
huggingface_hub, fetching ``config.json`` and ``model.safetensors`` of one commit; with
``HF_HUB_OFFLINE=1`` or ``local_files_only=True`` nothing goes on the network and only the
cache is read. A repo that cannot be reached and is not in the cache raises
:class:`~kgrec.errors.CheckpointError`, never a hang: the Hub gets one request of at most
``timeout`` seconds before kgrec falls back to the cache (the file downloads themselves follow
``HF_HUB_DOWNLOAD_TIMEOUT``).
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any, Self

from kgrec.errors import CheckpointError, InvalidValueError, shown
from kgrec.graph.snapshot import NODE_TYPES
from kgrec.graph.store import GraphStore
from kgrec.train.checkpoint import CONFIG_FILE, WEIGHTS_FILE, read_checkpoint, read_serving

log = logging.getLogger(__name__)

CARD_FILE = "README.md"
#: The files of a pretrained folder (the model card is not needed to load it).
PRETRAINED_FILES = (CONFIG_FILE, WEIGHTS_FILE, CARD_FILE)
#: The model card's Hugging Face metadata tags (the model class is added).
CARD_TAGS = ("kgrec", "recommendation", "knowledge-graph", "explainable")


def check_metrics(metrics: object) -> dict[str, float]:
    """``metrics`` as ``{name: value}`` if it maps non-empty strings to finite numbers
    (``None``: no metrics); raises :class:`InvalidValueError` naming the bad entry."""
    if metrics is None:
        return {}
    if not isinstance(metrics, Mapping):
        raise InvalidValueError(f"metrics must map names to numbers, got {shown(metrics)}")
    checked = {}
    for name, value in metrics.items():
        if not isinstance(name, str) or not name.strip():
            raise InvalidValueError(f"metric names must be non-empty strings, got {shown(name)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidValueError(f"metric {shown(name)} must be a finite number, got {shown(value)}")
        checked[name] = float(value)
    return checked


def _cell(value: object) -> str:
    """``value`` as JSON in a Markdown table cell's code span (no ``|`` or backtick left)."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def _table(header: tuple[str, str], rows: Mapping[str, object]) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "| --- | --- |"]
    lines += [f"| {_cell(k)} | {_cell(v)} |" for k, v in rows.items()]
    return "\n".join(lines)


def model_card_text(directory: str | Path, metrics: Mapping[str, float] | None = None) -> str:
    """The ``README.md`` model card of the serving checkpoint in ``directory``, written from
    its checked ``config.json``: metadata, the graph the model serves (node counts and the
    store fingerprints :meth:`Recommender.from_checkpoint` compares), hparams, ``metrics``,
    the text model and how to load it."""
    from huggingface_hub import ModelCardData

    from kgrec import __version__

    checkpoint = read_checkpoint(directory)
    serving = read_serving(checkpoint)
    name = checkpoint.model_class.__name__
    counts = {t: int(checkpoint.graph[f"{t} nodes"]) for t in NODE_TYPES if f"{t} nodes" in checkpoint.graph}
    data = ModelCardData(library_name="kgrec", tags=sorted({*CARD_TAGS, name}))
    calibration = serving["calibration"]
    sections = [
        f"# kgrec {name}",
        f"An explainable knowledge-graph recommender saved by kgrec {__version__}: a `{name}` "
        f"trained on a graph of {', '.join(f'{n:,} {t}' for t, n in counts.items())} nodes"
        + (", knowledge-graph edges included." if serving["with_kg"] else " (interactions only)."),
        "## The graph it serves",
        "The model scores the users and items of one graph. `from_pretrained` refuses a store "
        "whose graph differs from it in any of these parts (SHA-256 of the node ids in index "
        "order, of the train interactions and of each knowledge-graph edge type), naming the part:",
        _table(("part", "SHA-256"), dict(sorted(serving["snapshot"].items()))),
        "## Model",
        _table(("hparam", "value"), {"model": name, **dict(sorted(checkpoint.hparams.items()))}),
        "Text features: the node text vectors are saved with the weights, so serving loads no "
        "text encoder; "
        + (
            "none was recorded for users and items added later."
            if serving["text_model"] is None
            else f"users and items added later are encoded with {_cell(serving['text_model'])}."
        )
        + (
            f" Scores are calibrated probabilities ({calibration.method}, fitted on the valid split)."
            if calibration is not None
            else " Scores are `sigmoid(logit)` (no calibration saved)."
        ),
    ]
    if metrics:
        sections += ["## Metrics", _table(("metric", "value"), metrics)]
    sections += [
        "## How to load",
        "```python\n"
        "from kgrec import Neo4jGraphStore, Recommender\n\n"
        "# a store holding exactly the graph above (the same loader and data it was trained on);\n"
        '# the embedded store works the same: MemoryGraphStore.open("graph-folder")\n'
        'store = Neo4jGraphStore.connect("bolt://localhost:7687", auth=("neo4j", "..."))\n'
        'rec = Recommender.from_pretrained("owner/name", store)  # or this folder\'s path\n'
        'rec.recommend("1", k=10)\n'
        "```",
        f"Files: `{CONFIG_FILE}` (model class, hparams, graph signature, the weights' SHA-256 and "
        f"the serving section) and `{WEIGHTS_FILE}` (safetensors; no pickle anywhere).",
    ]
    return f"---\n{data.to_yaml()}\n---\n\n" + "\n\n".join(sections) + "\n"


def _fetch(repo_id: str, revision: str | None, timeout: float, **hub: Any) -> Path:
    """The snapshot folder of ``repo_id`` in the Hub cache after fetching its checkpoint files
    of one commit (``hub``: cache_dir, token, force_download, endpoint). The Hub is probed
    first with one request of at most ``timeout`` seconds: ``hf_hub_download`` alone retries a
    dead Hub for minutes."""
    from huggingface_hub import HfApi, hf_hub_download

    HfApi(endpoint=hub["endpoint"], library_name="kgrec").repo_info(
        repo_id, revision=revision, token=hub["token"], timeout=timeout
    )
    download = partial(hf_hub_download, repo_id, etag_timeout=timeout, library_name="kgrec", **hub)
    folder = Path(download(CONFIG_FILE, revision=revision)).parent  # snapshots/<commit hash>
    download(WEIGHTS_FILE, revision=folder.name)  # the weights of the config's commit
    return folder


def _cached(repo_id: str, revision: str | None, cache_dir: str | Path | None) -> Path | None:
    """The snapshot folder holding ``repo_id``'s checkpoint files in the Hub cache, or
    ``None``; read from disk only (``hf_hub_download(local_files_only=True)`` may still send
    requests to the Hub)."""
    from huggingface_hub import try_to_load_from_cache

    config = try_to_load_from_cache(repo_id, CONFIG_FILE, cache_dir=cache_dir, revision=revision)
    if not isinstance(config, str):
        return None
    folder = Path(config).parent
    weights = try_to_load_from_cache(repo_id, WEIGHTS_FILE, cache_dir=cache_dir, revision=folder.name)
    return folder if isinstance(weights, str) else None


def resolve_pretrained(
    name_or_path: str | Path,
    *,
    revision: str | None = None,
    cache_dir: str | Path | None = None,
    local_files_only: bool = False,
    token: str | bool | None = None,
    force_download: bool = False,
    endpoint: str | None = None,
    timeout: float = 10.0,
) -> Path:
    """The local folder holding the checkpoint files of ``name_or_path``: an existing folder
    as is; else a Hugging Face repo id (on ``endpoint``, default ``HF_ENDPOINT``'s Hub) whose
    ``config.json`` and ``model.safetensors`` of one commit are fetched into the Hub cache.
    Offline (``local_files_only`` or ``HF_HUB_OFFLINE=1``) only the cache is read; online, the
    Hub is probed with one request of at most ``timeout`` seconds, and a Hub that does not
    answer (or lacks the repo) falls back to the cache, as huggingface_hub does. Raises
    :class:`CheckpointError` for a path that is no folder, a string that is neither a folder
    nor a repo id, and a repo that can neither be fetched nor found in the cache, with the
    reason; :class:`InvalidValueError` for a ``timeout`` that is not a positive number."""
    if isinstance(name_or_path, Path) or (isinstance(name_or_path, str) and os.path.exists(name_or_path)):
        path = Path(name_or_path)
        if not path.is_dir():
            raise CheckpointError(f"{path}: not a folder (a pretrained model is a folder or a Hub repo id)")
        return path
    if not isinstance(name_or_path, str):
        raise CheckpointError(f"a pretrained model is a folder or a Hub repo id, got {shown(name_or_path)}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < math.inf:
        raise InvalidValueError(f"timeout must be a positive number of seconds, got {shown(timeout)}")
    from huggingface_hub import constants
    from huggingface_hub.errors import EntryNotFoundError, HFValidationError, HTTPError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(name_or_path)
    except HFValidationError:
        raise CheckpointError(
            f"{shown(name_or_path)} is neither an existing folder nor a Hugging Face repo id"
        ) from None
    offline = local_files_only or constants.is_offline_mode()
    problem = "offline"
    if not offline:
        try:
            folder = _fetch(
                name_or_path, revision, timeout,
                cache_dir=cache_dir, token=token, force_download=force_download, endpoint=endpoint,
            )
            log.info("pretrained model %s fetched into %s", name_or_path, folder)
            return folder
        except (OSError, EntryNotFoundError, HTTPError) as exc:  # unreachable, timed out, no such repo
            problem = " ".join(str(exc).split())
    cached = _cached(name_or_path, revision, cache_dir)
    if cached is None:
        raise CheckpointError(
            f"{shown(name_or_path)} is no local folder, and Hugging Face repo {name_or_path} could "
            f"not be fetched: {problem}, and it is not in the Hugging Face cache"
        )
    if not offline:
        log.warning("Hugging Face repo %s not fetched (%s): serving its cached copy", name_or_path, problem)
    return cached


class Pretrained:
    """``save_pretrained`` / ``from_pretrained`` for :class:`~kgrec.Recommender` (which
    provides ``save`` and ``from_checkpoint``)."""

    def save_pretrained(
        self,
        save_directory: str | Path,
        *,
        text_model: str | None = None,
        with_kg: bool = True,
        metrics: Mapping[str, float] | None = None,
    ) -> Path:
        """Write ``config.json`` + ``model.safetensors`` as :meth:`Recommender.save` does
        (``text_model``, ``with_kg``: see there) and a ``README.md`` model card (the graph
        signature, hparams, ``metrics`` ``{name: number}`` if given, how to load); the card
        is rewritten on every save. Returns the folder, ready to upload to the Hub as is."""
        checked = check_metrics(metrics)  # before anything is written
        save = self.save  # type: ignore[attr-defined]  # Recommender.save
        directory = Path(save(save_directory, text_model=text_model, with_kg=with_kg))
        (directory / CARD_FILE).write_text(model_card_text(directory, checked), encoding="utf-8")
        return directory

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | Path,
        store: GraphStore,
        *,
        revision: str | None = None,
        cache_dir: str | Path | None = None,
        local_files_only: bool = False,
        token: str | bool | None = None,
        force_download: bool = False,
        endpoint: str | None = None,
        timeout: float = 10.0,
        **options: Any,
    ) -> Self:
        """The recommender saved by :meth:`save_pretrained` (or ``save``) in a local folder
        or a Hugging Face repo (see :func:`resolve_pretrained` for the Hub arguments), served
        from ``store`` as :meth:`Recommender.from_checkpoint` does (``options`` go to the
        constructor). :class:`~kgrec.errors.CheckpointError` for a folder or repo that cannot
        be had, a damaged checkpoint or a store whose graph differs."""
        folder = resolve_pretrained(
            pretrained_model_name_or_path,
            revision=revision,
            cache_dir=cache_dir,
            local_files_only=local_files_only,
            token=token,
            force_download=force_download,
            endpoint=endpoint,
            timeout=timeout,
        )
        return cls.from_checkpoint(folder, store, **options)  # type: ignore[attr-defined]
