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
from torch import Tensor
from tqdm.auto import tqdm

from kgrec.errors import shown
from kgrec.graph.snapshot import Snapshot
from kgrec.models.base import RankingModel, resolve_device
from kgrec.train.curves import save_curves
from kgrec.train.evaluation import RankingEvaluator
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
    (``"cpu"``, ``"cuda:1"``), so the config stays JSON-able."""

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


def _compact(index: Tensor, size: int) -> tuple[Tensor, Tensor]:
    """``(unique [n], inverse)`` of ``index`` with values in ``[0, size)``, like
    ``index.unique(return_inverse=True)`` but in linear time (no sort); on ``index``'s device."""
    present = torch.zeros(size, dtype=torch.bool, device=index.device)
    present[index] = True
    unique = present.nonzero().squeeze(1)
    position = torch.empty(size, dtype=torch.long, device=index.device)
    position[unique] = torch.arange(unique.numel(), device=index.device)
    return unique, position[index]


class Trainer:
    """Fits a :class:`~kgrec.models.RankingModel` on the train split of ``snapshot``.

    Each epoch shuffles the train (user, item) pairs, draws ``num_negatives`` uniform
    negatives per pair (or per batch), scores the batch's users against the batch's items
    after one :meth:`~kgrec.models.RankingModel.encode` (with shared negatives: the pairs with
    :meth:`~kgrec.models.RankingModel.score_pairs`, the users against the shared items), and
    steps Adam on the loss plus L2. Model
    selection uses the valid split only; the test split is never read here.

    The model is moved to ``config.device`` and stays there after :meth:`fit`; the train pairs,
    the negative sampler and every batch tensor live there too.
    """

    def __init__(self, model: RankingModel, snapshot: Snapshot, config: TrainConfig | None = None) -> None:
        self.model = model
        self.config = config or TrainConfig()
        self.device = resolve_device(self.config.device)
        self.model.to(self.device)
        train_edges = snapshot.interactions.edge_index(("train",)).to(self.device)
        self.evaluator = RankingEvaluator(
            snapshot.interactions, model.num_users, model.num_items
        )
        self.sampler = NegativeSampler(train_edges, model.num_items)
        # A user with every item in train has no negative to rank a positive against.
        rankable = self.sampler.has_negatives(train_edges[0])
        if not rankable.all():
            full = [snapshot.node_ids["user"][u] for u in self.sampler.users_without_negatives.tolist()]
            log.warning(
                "%d user(s) interacted with every item in train (%s): their %d train pairs "
                "have no negative and are left out of training",
                len(full), shown(full), int((~rankable).sum()),
            )
        self.train_edges = train_edges[:, rankable]
        self.loss_fn = LOSSES[self.config.loss]

    def _epoch(self, optimizer: torch.optim.Optimizer, generator: torch.Generator) -> float:
        cfg = self.config
        order = torch.randperm(self.train_edges.size(1), generator=generator, device=self.device)
        total = 0.0
        for batch in order.split(cfg.batch_size):
            users, positives = self.train_edges[:, batch]
            batch_users, user_pos = _compact(users, self.model.num_users)
            encoded = self.model.encode()
            if cfg.shared_negatives:
                shared = torch.randint(
                    self.model.num_items, (cfg.num_negatives,), generator=generator, device=self.device
                )
                negatives = shared.expand(users.numel(), -1)
                known = self.sampler.is_positive(users.unsqueeze(1).expand_as(negatives), negatives)
                positive_scores = self.model.score_pairs(encoded, users, positives)  # [B]
                negative_scores = self.model.score(encoded, batch_users, shared)[user_pos]  # [B, M]
                # A user's own positives are no negatives: drop them.
                negative_scores = negative_scores.masked_fill(known, -torch.inf)
                batch_items = _compact(torch.cat([positives, shared]), self.model.num_items)[0]
            else:
                negatives = self.sampler.sample(users, cfg.num_negatives, generator)
                all_items = torch.cat([positives.unsqueeze(1), negatives], 1)
                batch_items, item_pos = _compact(all_items, self.model.num_items)
                scores = self.model.score(encoded, batch_users, batch_items)  # [U_b, I_b]
                pair_scores = scores[user_pos.unsqueeze(1), item_pos]  # [B, 1 + M]
                positive_scores, negative_scores = pair_scores[:, 0], pair_scores[:, 1:]
            loss = self.loss_fn(positive_scores, negative_scores)
            reg = self.model.regularization(encoded, batch_users, batch_items) / batch.numel()
            loss = loss + cfg.l2 * reg
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * batch.numel()
        return total / order.numel()

    def fit(self, out_dir: str | Path | None = None) -> TrainResult:
        """Train until ``epochs`` or early stopping; restore the best weights. With ``out_dir``,
        also save the loss/metric curve there as ``curves.png``."""
        cfg = self.config
        result = TrainResult()
        params = [p for p in self.model.parameters() if p.requires_grad]
        if not params:
            result.best_valid = self.evaluator.evaluate(self.model, "valid")
            return result
        generator = torch.Generator(device=self.device).manual_seed(cfg.seed)
        optimizer = torch.optim.Adam(params, lr=cfg.lr)
        best_state, best_value, stale = None, -float("inf"), 0
        self.model.train()
        bar = tqdm(range(1, cfg.epochs + 1), desc=type(self.model).__name__, disable=not cfg.progress)
        for epoch in bar:
            start = time.perf_counter()
            loss = self._epoch(optimizer, generator)
            row = {"epoch": epoch, "loss": loss, "seconds": time.perf_counter() - start}
            if epoch % cfg.eval_every == 0 or epoch == cfg.epochs:
                valid = self.evaluator.evaluate(self.model, "valid")
                row.update(valid)
                if valid[cfg.monitor] > best_value:
                    best_value, stale = valid[cfg.monitor], 0
                    best_state = copy.deepcopy(self.model.state_dict())
                    result.best_epoch, result.best_valid = epoch, valid
                else:
                    stale += 1
            result.history.append(row)
            log.info(
                "epoch %d loss %.4f valid %s %.4f (%.2fs)",
                epoch, loss, cfg.monitor, row.get(cfg.monitor, float("nan")), row["seconds"],
            )
            bar.set_postfix(loss=f"{loss:.4f}", best=f"{best_value:.4f}")
            if stale >= cfg.patience:
                log.info("early stop at epoch %d, best epoch %d", epoch, result.best_epoch)
                break
        if best_state is not None:
            self.model.load_state_dict(best_state)
        self.model.eval()
        if out_dir is not None:
            save_curves(result.history, Path(out_dir) / "curves.png", cfg.monitor)
        return result
