"""Full-ranking evaluation: every item is ranked, the user's known positives are masked."""

from __future__ import annotations

from typing import Iterator

import torch
from torch import Tensor

from kgrec.graph.snapshot import InteractionTable
from kgrec.models.base import RankingModel
from kgrec.train.leakage import check_no_leakage
from kgrec.train.metrics import METRIC_NAMES, ranking_metrics

#: Splits masked out of the ranking when evaluating a phase.
MASKED_SPLITS = {"valid": ("train",), "test": ("train", "valid")}
#: Scores held per batch of users by default (``batch_size`` ``x`` catalogue): 32M floats.
SCORES_PER_BATCH = 2**25


class RankingEvaluator:
    """Ranks all ``num_items`` items for users with items in a phase (``"valid"`` or ``"test"``).

    Users are streamed in batches of ``batch_size`` (default: 512, fewer on catalogues over
    65,536 items, so a batch holds at most :data:`SCORES_PER_BATCH` scores); each batch reads
    only its users' slice of the interactions, so memory is bounded and the time grows with
    the users and the catalogue, not their square. Scores are computed on the model's device
    (:attr:`~kgrec.models.RankingModel.device`); top-k lists and metrics come back on CPU.

    The user's train positives are masked, and for ``"test"`` the valid positives too; metrics
    (see :func:`~kgrec.train.metrics.ranking_metrics`) are averaged over users with at least
    one relevant item. The constructor raises :class:`~kgrec.train.leakage.LeakageError` when
    a (user, item) pair is in more than one split.
    """

    def __init__(
        self,
        interactions: InteractionTable,
        num_users: int,
        num_items: int,
        ks: tuple[int, ...] = (10, 20),
        batch_size: int | None = None,
    ) -> None:
        check_no_leakage(interactions, num_items)
        self.interactions = interactions
        self.num_users = num_users
        self.num_items = num_items
        self.ks = ks
        self.batch_size = batch_size or max(1, min(512, SCORES_PER_BATCH // max(num_items, 1)))

    @staticmethod
    def _by_user(edges: Tensor) -> Tensor:
        """``edges`` ``[2, E]`` ordered by user, so a range of users is one slice: as they come
        (an interaction table is ordered by user), sorted only if they are not."""
        if bool((edges[0].diff() < 0).any()):
            return edges[:, torch.sort(edges[0], stable=True).indices]
        return edges

    def _dense(self, edges: Tensor, start: int, end: int) -> Tensor:
        """``[end - start, num_items]`` True where users start..end-1 have a pair in ``edges``
        ``[2, E]`` (ordered by user, see :meth:`_by_user`), on the device of ``edges``."""
        bounds = torch.searchsorted(edges[0], torch.tensor([start, end], device=edges.device)).tolist()
        user, item = edges[:, bounds[0] : bounds[1]]
        out = torch.zeros(end - start, self.num_items, dtype=torch.bool, device=edges.device)
        out[user - start, item] = True
        return out

    @torch.no_grad()
    def scored(self, model: RankingModel, phase: str) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
        """Yields ``(users [B], scores [B, N], relevant [B, N])`` per batch of users that have
        items in ``phase``: the model's logits of every item, ``-inf`` at the masked items
        (:data:`MASKED_SPLITS`), on the model's device; ``users`` and ``relevant`` on CPU."""
        was_training = model.training
        model.eval()
        device = model.device
        relevant_edges = self._by_user(self.interactions.edge_index((phase,)))
        masked_edges = self._by_user(self.interactions.edge_index(MASKED_SPLITS[phase]).to(device))
        encoded = model.encode()
        for start in range(0, self.num_users, self.batch_size):
            end = min(start + self.batch_size, self.num_users)
            relevant = self._dense(relevant_edges, start, end)
            rows = relevant.any(1).nonzero().squeeze(1)
            if rows.numel() == 0:
                continue
            users = rows + start
            scores = model.score(encoded, users.to(device)).float()
            scores = scores.masked_fill(self._dense(masked_edges, start, end)[rows.to(device)], -torch.inf)
            yield users, scores, relevant[rows]
        model.train(was_training)

    def _ranked(self, model: RankingModel, phase: str, k: int) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
        """Yields ``(users [B], top items [B, k], relevant [B, N])``, on CPU, per batch of
        :meth:`scored` users."""
        for users, scores, relevant in self.scored(model, phase):
            yield users, scores.topk(k, dim=1).indices.cpu(), relevant

    def top_k(self, model: RankingModel, phase: str = "test", k: int = 20) -> tuple[Tensor, Tensor]:
        """``(users [U], items [U, k])`` on CPU: each evaluated user's top-k unmasked items."""
        batches = list(self._ranked(model, phase, k))
        return torch.cat([b[0] for b in batches]), torch.cat([b[1] for b in batches])

    def evaluate(
        self, model: RankingModel, phase: str = "valid", items: Tensor | None = None
    ) -> dict[str, float]:
        """Mean metrics over the users with items in ``phase``; with ``items`` (indices), only
        those items count as relevant, averaged over users with at least one of them."""
        keep = None
        if items is not None:
            keep = torch.zeros(self.num_items, dtype=torch.bool, device="cpu")  # as ``relevant``
            keep[items.cpu()] = True
        sums = {f"{name}@{k}": 0.0 for k in self.ks for name in METRIC_NAMES}
        count = 0
        for _, top, relevant in self._ranked(model, phase, max(self.ks)):
            if keep is not None:
                relevant = relevant & keep
                has = relevant.any(1)
                top, relevant = top[has], relevant[has]
            for name, values in ranking_metrics(top, relevant, self.ks).items():
                sums[name] += float(values.sum())
            count += relevant.size(0)
        return {name: total / max(count, 1) for name, total in sums.items()} | {"users": count}
