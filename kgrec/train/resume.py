"""Resuming training from a checkpoint on the store's current graph (``kgrec train --resume``).

The graph may have grown since the checkpoint was saved: new users, items or entities (the
cold-start API, a new load), new interactions (feedback). :func:`resumed_model` builds the
checkpoint's model class on the current training graph and starts it from every trained
parameter that still fits: a per-node table (``features.id_emb.user.weight``) keeps each old
node's trained row at that node's new row and the fresh initialization on new nodes' rows;
any other parameter is copied when its shape is unchanged and left freshly initialized
otherwise (e.g. a relation the graph did not have). Buffers (text vectors, adjacency) are the
current graph's.

Online feedback (:mod:`kgrec.feedback`) is stored in the ``feedback`` split, which training
does not read; :func:`learn_feedback` turns the events a user wants more of into train
interactions of the store, so that a model trained next learns them and its checkpoint matches
the store's train interactions.

Rows are mapped by node id: a checkpoint's ``config.json`` records only a hash of its node ids,
so :func:`save_node_ids` writes them beside it (``node_ids.json``, checked against that hash on
reading). A checkpoint without the file resumes only onto a graph with the same node ids.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from kgrec.errors import CheckpointError, shown
from kgrec.graph.snapshot import NODE_TYPES, Snapshot
from kgrec.graph.store import GraphStore
from kgrec.models import RankingModel
from kgrec.train.checkpoint import read_checkpoint, read_serving

log = logging.getLogger(__name__)

NODE_IDS_FILE = "node_ids.json"


@dataclass(frozen=True)
class ResumeReport:
    """What :func:`resumed_model` carried over: ``loaded`` parameters (whole, or row by row for
    per-node tables), ``fresh`` ones (no trained value fits) and, per node type, the number of
    ``new_rows`` (nodes the checkpoint did not know)."""

    loaded: list[str] = field(default_factory=list)
    fresh: list[str] = field(default_factory=list)
    new_rows: dict[str, int] = field(default_factory=dict)


def save_node_ids(directory: str | Path, snapshot: Snapshot) -> Path:
    """Write ``snapshot``'s node ids (``{node type: [id, ...]}`` in index order) into the
    checkpoint folder ``directory``: what a later :func:`resumed_model` maps rows by."""
    path = Path(directory) / NODE_IDS_FILE
    path.write_text(json.dumps({t: snapshot.node_ids[t] for t in NODE_TYPES}, ensure_ascii=False))
    return path


def _ids_digest(ids: list[str]) -> str:
    """The fingerprint :meth:`Snapshot.fingerprints` gives a node type's ids (``"<t> ids"``)."""
    return hashlib.sha256(json.dumps(ids).encode()).hexdigest()


def saved_node_ids(directory: str | Path, snapshot: Snapshot) -> dict[str, list[str]]:
    """The node ids the checkpoint in ``directory`` was trained on: from ``node_ids.json``
    (checked against the checkpoint's recorded fingerprints), or, without that file, the
    current ``snapshot``'s when their fingerprints match. Raises :class:`CheckpointError`
    naming the file otherwise."""
    directory = Path(directory)
    checkpoint = read_checkpoint(directory)
    fingerprints = read_serving(checkpoint)["snapshot"]
    path = directory / NODE_IDS_FILE
    current = snapshot.fingerprints()
    if not path.is_file():
        changed = [t for t in NODE_TYPES if fingerprints.get(f"{t} ids") != current[f"{t} ids"]]
        if changed:
            raise CheckpointError(
                f"{path}: missing, and the graph's {', '.join(changed)} ids changed since the "
                "checkpoint: without the saved ids its rows cannot be mapped to the new nodes"
            )
        return {t: snapshot.node_ids[t] for t in NODE_TYPES}
    try:
        saved = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: unreadable: {exc}") from None
    for t in NODE_TYPES:
        ids = saved.get(t) if isinstance(saved, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise CheckpointError(f"{path}: field {t} must be a list of ids, got {shown(ids)}")
        if _ids_digest(ids) != fingerprints.get(f"{t} ids"):
            raise CheckpointError(f"{path}: the {t} ids are not those {checkpoint.config_file.name} records")
    return {t: saved[t] for t in NODE_TYPES}


def resumed_model(
    directory: str | Path,
    graph: HeteroData,
    snapshot: Snapshot,
    hparams: Mapping[str, Any] | None = None,
) -> tuple[RankingModel, ResumeReport]:
    """The checkpoint's model class built on ``graph`` (the training graph of ``snapshot``,
    the store's current one) with the checkpoint's hyperparameters updated by ``hparams``,
    started from the trained parameters that fit (see the module docstring). Freshly
    initialized parts come from the model's constructor: seed before calling for
    reproducibility."""
    checkpoint = read_checkpoint(directory)
    old_ids = saved_node_ids(directory, snapshot)
    settings = {**checkpoint.hparams, **(hparams or {})}
    try:
        checkpoint.model_class.check_hparams(settings)
    except ValueError as exc:
        raise CheckpointError(f"{checkpoint.config_file}: {exc}") from None
    model = checkpoint.model_class(graph, **settings)
    rows = {t: _row_map(old_ids[t], snapshot.node_ids[t]) for t in NODE_TYPES}
    report = ResumeReport(new_rows={t: snapshot.num_nodes(t) - int((rows[t] >= 0).sum()) for t in NODE_TYPES})
    state = model.state_dict()
    for key, _ in model.named_parameters():
        value = _carried(key, checkpoint.state.get(key), state[key], rows, old_ids)
        if value is None:
            report.fresh.append(key)
        else:
            state[key] = value
            report.loaded.append(key)
    model.load_state_dict(state)
    log.info(
        "resumed %s from %s: %d parameters carried over, %d fresh (%s); new rows %s",
        type(model).__name__,
        directory,
        len(report.loaded),
        len(report.fresh),
        ", ".join(report.fresh) or "none",
        report.new_rows,
    )
    return model, report


def learn_feedback(store: GraphStore, snapshot: Snapshot) -> int:
    """Rewrite the positive feedback events of ``store`` (split ``feedback``, a positive
    :meth:`~kgrec.feedback.FeedbackPolicy.polarity` under the default policy) as ``train``
    interactions, keeping their kind, source, timestamp and values; ``snapshot`` is the store's.
    Returns their number; the evaluation splits are never touched."""
    from kgrec.feedback import FEEDBACK_SPLIT, FeedbackEvent, FeedbackPolicy

    interactions = snapshot.interactions
    users = interactions.user[interactions.mask([FEEDBACK_SPLIT])].unique().tolist()
    if not users:
        return 0
    policy = FeedbackPolicy()
    positives = []
    for records in store.user_interactions([snapshot.node_ids["user"][u] for u in users]).values():
        for r in records:
            if r.split != FEEDBACK_SPLIT or r.kind is None:
                continue
            value = r.rating if r.kind == "rating" else r.weight if r.kind == "watch" else None
            event = FeedbackEvent(r.user, r.item, r.kind, value, r.timestamp or 0, r.source or "")
            if policy.polarity(event) > 0:
                positives.append(dataclasses.replace(r, split="train"))
    store.upsert_interactions(positives)
    log.info("%d positive feedback events of %d users are train interactions now", len(positives), len(users))
    return len(positives)


def _row_map(old: list[str], current: list[str]) -> Tensor:
    """``[len(old)]`` the row in ``current`` of each old node id, -1 for ids no longer there."""
    index = {node_id: k for k, node_id in enumerate(current)}
    return torch.tensor([index.get(i, -1) for i in old], dtype=torch.long)


def _carried(
    key: str,
    trained: Tensor | None,
    fresh: Tensor,
    rows: Mapping[str, Tensor],
    old_ids: Mapping[str, list[str]],
) -> Tensor | None:
    """The value parameter ``key`` starts from: ``trained`` itself, ``fresh`` with the trained
    rows of the old nodes (a per-node table, its node type named in the key), or ``None``
    (keep ``fresh``)."""
    if trained is None:
        return None
    words = set(re.split(r"[._]", key))
    owners = [
        t for t in NODE_TYPES if t in words and trained.dim() > 0 and trained.size(0) == len(old_ids[t])
    ]
    if len(owners) == 1 and trained.shape[1:] == fresh.shape[1:]:
        moved = rows[owners[0]]
        kept = moved >= 0
        table = fresh.clone()
        table[moved[kept]] = trained[kept].to(fresh.dtype)
        return table
    return trained if trained.shape == fresh.shape else None
