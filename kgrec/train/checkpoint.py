"""Checkpoints as ``config.json`` + ``model.safetensors``: no pickle anywhere.

``config.json`` holds exactly: ``model`` (a class name in :data:`kgrec.models.MODELS`),
``hparams`` (checked by that class's :meth:`~kgrec.models.RankingModel.check_hparams`),
``graph`` (the training graph's :func:`graph_signature`), ``weights_sha256`` (of
``model.safetensors``) and ``extra`` (the caller's JSON metadata). Loading checks all of it
before building anything and raises :class:`~kgrec.errors.CheckpointError` naming the file and
the field.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save_file
from torch import Tensor
from torch_geometric.data import HeteroData

from kgrec.errors import CheckpointError, InvalidValueError, shown
from kgrec.graph.snapshot import edge_part, fingerprint_changes, tensor_digest
from kgrec.graph.snapshot import Snapshot
from kgrec.graph.store import GraphStore
from kgrec.models import MODELS, RankingModel, training_graph

if TYPE_CHECKING:  # kgrec.explain.calibration imports kgrec.train (the evaluator)
    from kgrec.explain.calibration import ScoreCalibration

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"

_REQUIRED = ("model", "hparams", "graph", "weights_sha256")
_OPTIONAL = ("extra",)
_SHA256 = re.compile(r"[0-9a-f]{64}")


def graph_signature(graph: HeteroData) -> dict[str, str]:
    """What a checkpoint must match, part by part: the node count of each type
    (``"user nodes"``) and the SHA-256 of each edge type's edge index
    (``"edges user-INTERACTED->item"``, as in :meth:`~kgrec.graph.snapshot.Snapshot.fingerprints`)."""
    signature = {f"{t} nodes": str(int(graph[t].num_nodes)) for t in graph.node_types}
    for edge_type in graph.edge_types:
        signature[edge_part(edge_type)] = tensor_digest(graph[edge_type].edge_index)
    return signature


def save_checkpoint(
    model: RankingModel, directory: str | Path, graph: HeteroData, extra: dict[str, Any] | None = None
) -> Path:
    """Write ``directory/model.safetensors`` (parameters and persistent buffers) and then
    ``directory/config.json`` (model class, hparams, graph signature, the weights' SHA-256 and
    the JSON-able ``extra``). Returns ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    weights = directory / WEIGHTS_FILE
    save_file(state, str(weights))
    config = {
        "model": type(model).__name__,
        "hparams": model.hparams(),
        "graph": graph_signature(graph),
        "weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "extra": extra or {},
    }
    (directory / CONFIG_FILE).write_text(json.dumps(config, indent=1, sort_keys=True))
    return directory


@dataclass(frozen=True)
class Checkpoint:
    """A checked checkpoint: its files, the model class, its hparams and graph signature, the
    caller's ``extra`` metadata and the saved tensors."""

    config_file: Path
    weights_file: Path
    model_class: type[RankingModel]
    hparams: dict[str, Any]
    graph: dict[str, str]
    extra: dict[str, Any]
    state: dict[str, Tensor]

    def build(self, graph: HeteroData) -> RankingModel:
        """The saved model on ``graph``, in eval mode. Raises :class:`CheckpointError` when
        ``graph`` is not the one it was trained on or the tensors do not fit the model."""
        changes = fingerprint_changes(self.graph, graph_signature(graph))
        if changes:
            raise CheckpointError(
                f"checkpoint {self.config_file} was trained on a different graph: "
                + "; ".join(changes)
            )
        model = self.model_class(graph, **self.hparams)
        expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        found = {k: tuple(v.shape) for k, v in self.state.items()}
        problems = [f"tensor {k!r} missing" for k in sorted(expected.keys() - found.keys())]
        problems += [f"unexpected tensor {shown(k)}" for k in sorted(found.keys() - expected.keys())]
        problems += [
            f"tensor {k!r} has shape {list(found[k])}, the model of {self.config_file.name} "
            f"expects {list(shape)}"
            for k, shape in sorted(expected.items())
            if k in found and found[k] != shape
        ]
        if problems:
            raise CheckpointError(
                f"{self.weights_file} does not fit the {self.model_class.__name__} that "
                f"{self.config_file.name} describes: " + "; ".join(problems[:5])
            )
        model.load_state_dict(self.state)
        return model.eval()


def _read_config(path: Path) -> dict[str, Any]:
    """``config.json`` as a dict with exactly the known keys, each of the right type."""
    try:
        config = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise CheckpointError(f"{path}: file missing (is this a kgrec checkpoint folder?)") from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read: {exc}") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise CheckpointError(f"{path}: invalid JSON: {exc}") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: must hold a JSON object, got {shown(config)}")
    unknown = sorted(config.keys() - {*_REQUIRED, *_OPTIONAL})
    if unknown:
        raise CheckpointError(f"{path}: unknown field(s) {', '.join(shown(k) for k in unknown[:10])}")
    missing = [k for k in _REQUIRED if k not in config]
    if missing:
        raise CheckpointError(f"{path}: field(s) {missing} missing")
    if not isinstance(config["model"], str) or config["model"] not in MODELS:
        raise CheckpointError(
            f"{path}: field model must be one of {sorted(MODELS)}, got {shown(config['model'])}"
        )
    try:
        MODELS[config["model"]].check_hparams(config["hparams"])
    except InvalidValueError as exc:
        raise CheckpointError(f"{path}: field {exc}") from None
    graph = config["graph"]
    if not isinstance(graph, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in graph.items()
    ):
        raise CheckpointError(f"{path}: field graph must map strings to strings, got {shown(graph)}")
    if not isinstance(config["weights_sha256"], str) or not _SHA256.fullmatch(config["weights_sha256"]):
        raise CheckpointError(
            f"{path}: field weights_sha256 must be 64 lowercase hex digits, "
            f"got {shown(config['weights_sha256'])}"
        )
    if not isinstance(config.setdefault("extra", {}), dict):
        raise CheckpointError(f"{path}: field extra must be an object, got {shown(config['extra'])}")
    return config


def _read_weights(path: Path, sha256: str, config_file: Path) -> dict[str, Tensor]:
    """The tensors of ``model.safetensors``, once its bytes match the recorded SHA-256."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: file missing (config.json is there, the weights are not)") from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read: {exc}") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise CheckpointError(
            f"{path}: its SHA-256 {actual} is not the weights_sha256 {sha256} recorded in "
            f"{config_file.name}: the file was changed, truncated or replaced after saving"
        )
    try:
        return load_tensors(data)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file: {exc}") from None


def read_checkpoint(directory: str | Path) -> Checkpoint:
    """Read and check the checkpoint in ``directory`` (config fields, hparams ranges, the
    weights' SHA-256 and format) without building the model."""
    directory = Path(directory)
    config_file, weights_file = directory / CONFIG_FILE, directory / WEIGHTS_FILE
    config = _read_config(config_file)
    state = _read_weights(weights_file, config["weights_sha256"], config_file)
    return Checkpoint(
        config_file,
        weights_file,
        MODELS[config["model"]],
        config["hparams"],
        config["graph"],
        config["extra"],
        state,
    )


def load_checkpoint(directory: str | Path, graph: HeteroData) -> RankingModel:
    """Rebuild the model saved in ``directory`` on ``graph`` (the same training graph) and load
    its weights; raises :class:`~kgrec.errors.CheckpointError`, naming the file and the field,
    for a missing, corrupt or edited checkpoint or a graph that does not match."""
    return read_checkpoint(directory).build(graph)


def check_text_model(value: object) -> str | None:
    """``value`` if it can name a text encoder: ``None`` (no text), ``"default"`` (the packaged
    all-MiniLM-L6-v2), a Hugging Face model name or an existing local folder; raises
    :class:`InvalidValueError` otherwise."""
    if value is None or value == "default":
        return value
    if isinstance(value, str) and Path(value).is_dir():
        return value
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(value)
    except (HFValidationError, TypeError):
        raise InvalidValueError(
            "text_model must be None, 'default', a Hugging Face model name or an existing "
            f"folder, got {shown(value)}"
        ) from None
    return value


#: The fields of a checkpoint's ``extra.serving``, written by :meth:`kgrec.Recommender.save`;
#: ``calibration`` (a :meth:`ScoreCalibration.to_dict` or null) may be absent (older checkpoints).
SERVING_FIELDS = ("snapshot", "text_model", "with_kg", "calibration")


def read_serving(checkpoint: Checkpoint) -> dict[str, Any]:
    """The checked ``extra.serving`` section of a checkpoint saved by :meth:`kgrec.Recommender.save`."""
    where = f"{checkpoint.config_file}: field extra.serving"
    serving = checkpoint.extra.get("serving")
    if serving is None:
        raise CheckpointError(
            f"{where} missing: not a kgrec serving checkpoint (Recommender.save writes one)"
        )
    if not isinstance(serving, dict) or {*serving, "calibration"} != set(SERVING_FIELDS):
        raise CheckpointError(
            f"{where} must be an object with the fields {list(SERVING_FIELDS)}, got {shown(serving)}"
        )
    fingerprints = serving["snapshot"]
    if not isinstance(fingerprints, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in fingerprints.items()
    ):
        raise CheckpointError(f"{where}.snapshot must map strings to strings, got {shown(fingerprints)}")
    if not isinstance(serving["with_kg"], bool):
        raise CheckpointError(f"{where}.with_kg must be true or false, got {shown(serving['with_kg'])}")
    try:
        check_text_model(serving["text_model"])
    except InvalidValueError as exc:
        raise CheckpointError(f"{where}.{exc}") from None
    from kgrec.explain.calibration import ScoreCalibration  # see the import cycle above

    calibration = serving.get("calibration")
    try:
        serving["calibration"] = None if calibration is None else ScoreCalibration.from_dict(calibration)
    except InvalidValueError as exc:
        raise CheckpointError(f"{where}.calibration: {exc}") from None
    return serving


def save_serving(
    model: RankingModel,
    snapshot: Snapshot,
    directory: str | Path,
    text_model: str | None,
    with_kg: bool,
    calibration: ScoreCalibration | None = None,
) -> Path:
    """:func:`save_checkpoint` with the serving section :func:`load_serving` checks: the
    snapshot's fingerprints, the text model's name, whether the graph had the KG and the
    score calibration's plain numbers (or null)."""
    graph = training_graph(snapshot, with_kg=with_kg)
    serving = {
        "snapshot": snapshot.fingerprints(),
        "text_model": text_model,
        "with_kg": with_kg,
        "calibration": None if calibration is None else calibration.to_dict(),
    }
    return save_checkpoint(model, directory, graph, {"serving": serving})


def load_serving(
    directory: str | Path, store: GraphStore
) -> tuple[RankingModel, Snapshot, str | None, ScoreCalibration | None]:
    """The model saved by :func:`save_serving`, rebuilt on ``store``'s graph with the saved
    text vectors, that snapshot, the text model's name and the score calibration (``None`` if
    none was saved); :class:`CheckpointError` (file and field named) for a damaged checkpoint
    or a store whose graph differs."""
    checkpoint = read_checkpoint(directory)
    serving = read_serving(checkpoint)
    snapshot = store.snapshot()
    changes = fingerprint_changes(serving["snapshot"], snapshot.fingerprints())
    if changes:
        raise CheckpointError(
            f"checkpoint {checkpoint.config_file} was trained on a different graph: " + "; ".join(changes)
        )
    text = checkpoint.model_class.saved_text(checkpoint.state)
    try:
        graph = training_graph(snapshot, text, with_kg=serving["with_kg"])
    except ValueError as exc:  # text vectors of another size than the node ids
        raise CheckpointError(f"{checkpoint.weights_file}: {exc}") from None
    return checkpoint.build(graph), snapshot, serving["text_model"], serving["calibration"]
