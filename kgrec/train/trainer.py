"""Training with sampled negatives and early stopping on the validation split."""

from __future__ import annotations

import copy
import logging
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from kgrec.errors import KgrecError, shown
from kgrec.graph.snapshot import Snapshot
from kgrec.models.base import RankingModel, resolve_device
from kgrec.train.curves import save_curves
from kgrec.train.evaluation import RankingEvaluator
from kgrec.train.batch_loss import BatchLoss
from kgrec.train.distributed import (
    ShardedEvaluator,
    check_same,
    current_topology,
    data_parallel,
    gathered_sum,
    process_group,
)
from kgrec.train.losses import LOSSES, LossName
from kgrec.train.sampling import NegativeSampler

log = logging.getLogger(__name__)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch: call it before building a model for a reproducible run."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass
class TrainConfig:
    """How to train. ``loss`` is ``"bpr"``, ``"bce"`` or ``"softmax"``; each (user, positive)
    pair gets ``num_negatives`` uniform negatives of its own, or with ``shared_negatives`` one
    draw per batch shared by all pairs (each user's train positives among them masked), which
    keeps the scored item set small on large catalogues; ``l2`` weights the
    squared norm of the layer-0 embeddings of the batch's distinct users and items, divided by
    the batch size; training stops after ``patience`` evaluations without a
    better ``valid`` :attr:`monitor` and the best weights are restored. ``device`` (a string or
    :class:`torch.device`; default ``"cuda"`` when CUDA is available, else ``"cpu"``) is where
    the model is trained and evaluated; it is validated and kept as its string form
    (``"cpu"``, ``"cuda:1"``), so the config stays JSON-able. ``mixed_precision`` runs each
    batch's forward pass under :func:`torch.autocast` (float16 with a gradient scaler on CUDA,
    bfloat16 on CPU); the sparse propagation, the losses' reductions and the weights stay
    float32, and evaluation is float32."""

    loss: LossName = "bpr"
    epochs: int = 300
    batch_size: int = 2048
    lr: float = 1e-3
    l2: float = 1e-4
    num_negatives: int = 1
    shared_negatives: bool = False
    patience: int = 50
    eval_every: int = 1
    monitor: str = "ndcg@20"
    seed: int = 2020
    progress: bool = True
    device: str | torch.device | None = None
    mixed_precision: bool = False

    def __post_init__(self) -> None:
        self.device = str(resolve_device(self.device))


#: Sampled softmax with 256 negatives: the training chosen for KGRecModel on ml100k's valid split
#: (benchmarks/ml100k.py); ``TrainConfig(**KGREC_TRAINING, epochs=...)``.
KGREC_TRAINING = dict(loss="softmax", num_negatives=256, batch_size=4096, lr=2e-3, l2=1e-4)


@dataclass
class TrainResult:
    """``history``: one row per epoch (``epoch``, ``loss``, ``seconds`` and, when evaluated,
    the valid metrics). ``best_epoch``/``best_valid``: the restored epoch and its metrics."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_valid: dict[str, float] = field(default_factory=dict)

    @property
    def seconds_per_epoch(self) -> float:
        rows = [r["seconds"] for r in self.history]
        return sum(rows) / len(rows) if rows else 0.0


class Trainer:
    """Fits a :class:`~kgrec.models.RankingModel` on the train split of ``snapshot``.

    Each epoch shuffles the train (user, item) pairs, draws ``num_negatives`` uniform
    negatives per pair (or per batch), and steps Adam on the batch's
    :class:`~kgrec.train.batch_loss.BatchLoss` (the loss plus L2 over the scored pairs only).
    Model selection uses the valid split only; the test split is never read here.

    The model is moved to ``config.device`` and stays there after :meth:`fit`; the train pairs,
    the negative sampler and every batch tensor live there too.

    Under ``torchrun`` (see :mod:`kgrec.train.distributed`) :meth:`fit` trains data-parallel:
    every rank holds the model (on ``cuda:LOCAL_RANK`` when ``device`` is CUDA) and draws the
    same permutation per epoch (generator seeded ``seed``), takes each global batch of
    ``batch_size`` pairs and trains on its ``1 / world`` slice, so one optimizer step is one
    global batch. Each rank's loss is weighted by its slice's share, so the gradient DDP
    averages is the one-process gradient of the global batch's mean loss, except the L2 term,
    taken over each slice's distinct users and items (a node in two slices counts twice). A
    last global batch with fewer pairs than ranks is skipped. Per-pair negatives come from a
    generator seeded ``seed + rank``; shared negatives are one draw per global batch, the same
    on every rank. Early stopping ranks each rank's share of the valid users and sums the
    metrics over the ranks (:class:`~kgrec.train.distributed.ShardedEvaluator`), so every rank
    takes the same decisions and restores the same best weights. Only rank 0 logs, shows
    progress and writes the curves. Each rank encodes the whole graph every step: the
    per-pair scoring and the loss are what is split.
    """

    def __init__(self, model: RankingModel, snapshot: Snapshot, config: TrainConfig | None = None) -> None:
        self.model = model
        self.config = config or TrainConfig()
        self.topology = current_topology()
        self.device = self.topology.device(resolve_device(self.config.device))
        self.model.to(self.device)
        train_edges = snapshot.interactions.edge_index(("train",)).to(self.device)
        self.evaluator = RankingEvaluator(
            snapshot.interactions, model.num_users, model.num_items
        )
        #: What early stopping evaluates with: the valid users shared out when distributed.
        self.valid_evaluator: RankingEvaluator | ShardedEvaluator = self.evaluator
        if self.topology.distributed:
            self.valid_evaluator = ShardedEvaluator(
                snapshot.interactions, model.num_users, model.num_items, self.topology
            )
        self._snapshot_fingerprint = snapshot.fingerprint() if self.topology.distributed else ""
        self.sampler = NegativeSampler(train_edges, model.num_items)
        # A user with every item in train has no negative to rank a positive against.
        rankable = self.sampler.has_negatives(train_edges[0])
        if not rankable.all() and self.topology.main:
            full = [snapshot.node_ids["user"][u] for u in self.sampler.users_without_negatives.tolist()]
            log.warning(
                "%d user(s) interacted with every item in train (%s): their %d train pairs "
                "have no negative and are left out of training",
                len(full), shown(full), int((~rankable).sum()),
            )
        self.train_edges = train_edges[:, rankable]
        self.batch_loss = BatchLoss(model, LOSSES[self.config.loss], self.sampler, self.config.l2)
        cuda = self.device.type == "cuda"
        #: Scales the loss of a float16 (CUDA) mixed-precision step; a no-op otherwise.
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.config.mixed_precision and cuda)

    def _autocast(self) -> torch.autocast:
        half = torch.float16 if self.device.type == "cuda" else torch.bfloat16
        return torch.autocast(self.device.type, dtype=half, enabled=self.config.mixed_precision)

    def _epoch(
        self,
        step: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        order_generator: torch.Generator,
        pair_generator: torch.Generator,
    ) -> float:
        """One pass over the train pairs with ``step`` (the batch loss, DDP-wrapped when
        distributed); the mean loss over every rank's pairs."""
        cfg = self.config
        rank, world = self.topology.rank, self.topology.world_size
        order = torch.randperm(self.train_edges.size(1), generator=order_generator, device=self.device)
        total, count = 0.0, 0
        for batch in order.split(cfg.batch_size):
            if batch.numel() < world:  # some rank would get no pair
                continue
            pairs = batch.tensor_split(world)[rank]
            users, positives = self.train_edges[:, pairs]
            if cfg.shared_negatives:
                negatives = torch.randint(
                    self.model.num_items, (cfg.num_negatives,), generator=order_generator, device=self.device
                )
            else:
                negatives = self.sampler.sample(users, cfg.num_negatives, pair_generator)
            with self._autocast():
                loss = step(users, positives, negatives)
            optimizer.zero_grad()
            share = world * pairs.numel() / batch.numel()  # 1 in one process
            self.scaler.scale(loss.float() * share).backward()
            self.scaler.step(optimizer)
            self.scaler.update()
            total += float(loss.detach()) * pairs.numel()
            count += pairs.numel()
        if self.topology.distributed:
            total, count = gathered_sum([total, count], self.device)
        return total / count

    def fit(self, out_dir: str | Path | None = None) -> TrainResult:
        """Train until ``epochs`` or early stopping; restore the best weights. With ``out_dir``,
        also save the loss/metric curve there as ``curves.png`` (rank 0). Under torchrun, joins
        the process group for the run (see :func:`~kgrec.train.distributed.process_group`)."""
        with process_group(self.device) as topology:
            if topology != self.topology:
                raise KgrecError(
                    f"this Trainer was built for {self.topology}, but fit runs in {topology}: "
                    "build the Trainer after init_process_group"
                )
            return self._fit(out_dir)

    def _fit(self, out_dir: str | Path | None) -> TrainResult:
        cfg = self.config
        main = self.topology.main
        result = TrainResult()
        params = [p for p in self.model.parameters() if p.requires_grad]
        if not params:
            result.best_valid = self.valid_evaluator.evaluate(self.model, "valid")
            return result
        order_generator = torch.Generator(device=self.device).manual_seed(cfg.seed)
        pair_generator = order_generator
        step: torch.nn.Module = self.batch_loss
        if self.topology.distributed:
            check_same(self._snapshot_fingerprint, "snapshots")
            pair_generator = torch.Generator(device=self.device).manual_seed(cfg.seed + self.topology.rank)
            step = data_parallel(self.batch_loss, self.device)
        optimizer = torch.optim.Adam(params, lr=cfg.lr)
        best_state, best_value, stale = None, -float("inf"), 0
        self.model.train()
        bar = tqdm(range(1, cfg.epochs + 1), desc=type(self.model).__name__, disable=not (cfg.progress and main))
        for epoch in bar:
            start = time.perf_counter()
            loss = self._epoch(step, optimizer, order_generator, pair_generator)
            row = {"epoch": epoch, "loss": loss, "seconds": time.perf_counter() - start}
            if epoch % cfg.eval_every == 0 or epoch == cfg.epochs:
                valid = self.valid_evaluator.evaluate(self.model, "valid")
                row.update(valid)
                if valid[cfg.monitor] > best_value:
                    best_value, stale = valid[cfg.monitor], 0
                    best_state = copy.deepcopy(self.model.state_dict())
                    result.best_epoch, result.best_valid = epoch, valid
                else:
                    stale += 1
            result.history.append(row)
            if main:
                log.info(
                    "epoch %d loss %.4f valid %s %.4f (%.2fs)",
                    epoch, loss, cfg.monitor, row.get(cfg.monitor, float("nan")), row["seconds"],
                )
            bar.set_postfix(loss=f"{loss:.4f}", best=f"{best_value:.4f}")
            if stale >= cfg.patience:
                if main:
                    log.info("early stop at epoch %d, best epoch %d", epoch, result.best_epoch)
                break
        if best_state is not None:
            self.model.load_state_dict(best_state)
        self.model.eval()
        if out_dir is not None and main:
            save_curves(result.history, Path(out_dir) / "curves.png", cfg.monitor)
        return result
