"""Checkpoints as ``config.json`` + ``model.safetensors``: no pickle anywhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file
from torch_geometric.data import HeteroData

from kgrec.errors import KgrecError
from kgrec.models import MODELS, RankingModel

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def graph_signature(graph: HeteroData) -> dict[str, Any]:
    """Node counts per type and edge counts per edge type: what a checkpoint must match."""
    return {
        "nodes": {t: int(graph[t].num_nodes) for t in graph.node_types},
        "edges": {"__".join(e): int(graph[e].edge_index.size(1)) for e in graph.edge_types},
    }


def save_checkpoint(
    model: RankingModel, directory: str | Path, graph: HeteroData, extra: dict[str, Any] | None = None
) -> Path:
    """Write ``directory/config.json`` (model class, hparams, graph signature, ``extra``) and
    ``directory/model.safetensors`` (parameters and persistent buffers). Returns ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = {
        "model": type(model).__name__,
        "hparams": model.hparams(),
        "graph": graph_signature(graph),
        **(extra or {}),
    }
    (directory / CONFIG_FILE).write_text(json.dumps(config, indent=1, sort_keys=True))
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(directory / WEIGHTS_FILE))
    return directory


def load_checkpoint(directory: str | Path, graph: HeteroData) -> RankingModel:
    """Rebuild the model saved in ``directory`` on ``graph`` (the same training graph) and load
    its weights; raises :class:`~kgrec.errors.KgrecError` when the graph does not match."""
    directory = Path(directory)
    config = json.loads((directory / CONFIG_FILE).read_text())
    if config["graph"] != graph_signature(graph):
        raise KgrecError(f"checkpoint {directory} was trained on a different graph")
    model = MODELS[config["model"]](graph, **config["hparams"])
    model.load_state_dict(load_file(str(directory / WEIGHTS_FILE)))
    return model.eval()
