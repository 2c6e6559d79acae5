"""The training loss of one batch of (user, positive item) pairs and their sampled negatives."""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from kgrec.models.base import RankingModel
from kgrec.train.sampling import NegativeSampler


def compact(index: Tensor, size: int) -> tuple[Tensor, Tensor]:
    """``(unique [n], inverse)`` of ``index`` with values in ``[0, size)``, like
    ``index.unique(return_inverse=True)`` but in linear time (no sort); on ``index``'s device."""
    present = torch.zeros(size, dtype=torch.bool, device=index.device)
    present[index] = True
    unique = present.nonzero().squeeze(1)
    position = torch.empty(size, dtype=torch.long, device=index.device)
    position[unique] = torch.arange(unique.numel(), device=index.device)
    return unique, position[index]


#: What scoring one pair on its own costs, in entries of a dense score matrix: it gathers its
#: user's and item's vectors (tens of floats each, per relation view), where a dense entry is a
#: few floats. The dense ``[U_b, I_b]`` product is used while it is at most this many times
#: the pairs (ml100k: 900 x 1,682 against 4,096 x 257 pairs).
PAIR_COST = 64


class BatchLoss(torch.nn.Module):
    r"""``loss(s^+, s^-) + l2 \cdot \mathrm{reg} / B`` of one batch, after one
    :meth:`~kgrec.models.RankingModel.encode` of the whole graph.

    ``forward(users [B], positives [B], negatives)`` with ``negatives`` either ``[B, M]`` (each
    pair its own) or ``[M]`` (one draw shared by the batch: each user's train positives among
    them are masked out). Only scored pairs are computed, never the batch's users against the
    catalogue:

    * shared ``[M]``: the positives with
      :meth:`~kgrec.models.RankingModel.score_pairs` (``[B]``) and the distinct users against
      the ``M`` items with :meth:`~kgrec.models.RankingModel.score` (``[U_b, M]``);
    * per pair ``[B, M]``: the distinct users against the distinct items they touch
      (``[U_b, I_b]``) while that matrix has at most :data:`PAIR_COST` entries per pair (a
      small catalogue: one dense product is fastest), else the pairs themselves with
      :meth:`~kgrec.models.RankingModel.score_pairs`.

    So a batch costs :math:`O(B\,M\,d)` beside the encoding, whatever the catalogue size. The
    regularizer :meth:`~kgrec.models.RankingModel.regularization` covers the batch's distinct
    users and items. A module so that :class:`torch.nn.parallel.DistributedDataParallel` can wrap
    it: its parameters are the model's.
    """

    def __init__(
        self,
        model: RankingModel,
        loss: Callable[[Tensor, Tensor], Tensor],
        sampler: NegativeSampler,
        l2: float = 0.0,
    ) -> None:
        super().__init__()
        self.model = model
        self.loss = loss
        self.sampler = sampler
        self.l2 = l2

    def forward(self, users: Tensor, positives: Tensor, negatives: Tensor) -> Tensor:
        model = self.model
        encoded = model.encode()
        batch_users, user_pos = compact(users, model.num_users)
        if negatives.dim() == 1:  # shared by the batch
            known = self.sampler.is_positive(users.unsqueeze(1), negatives.unsqueeze(0))  # [B, M]
            positive_scores = model.score_pairs(encoded, users, positives)  # [B]
            negative_scores = model.score(encoded, batch_users, negatives)[user_pos]  # [B, M]
            # A user's own positives are no negatives: drop them.
            negative_scores = negative_scores.masked_fill(known, -torch.inf)
            batch_items = compact(torch.cat([positives, negatives]), model.num_items)[0]
        else:
            all_items = torch.cat([positives.unsqueeze(1), negatives], 1)  # [B, 1 + M]
            batch_items, item_pos = compact(all_items, model.num_items)
            if batch_users.numel() * batch_items.numel() <= PAIR_COST * all_items.numel():
                scores = model.score(encoded, batch_users, batch_items)  # [U_b, I_b]
                pair_scores = scores[user_pos.unsqueeze(1), item_pos]
            else:
                pair_users = users.unsqueeze(1).expand_as(all_items).reshape(-1)
                pair_scores = model.score_pairs(encoded, pair_users, all_items.reshape(-1))
                pair_scores = pair_scores.view_as(all_items)  # [B, 1 + M]
            positive_scores, negative_scores = pair_scores[:, 0], pair_scores[:, 1:]
        loss = self.loss(positive_scores, negative_scores)
        reg = model.regularization(encoded, batch_users, batch_items)
        return loss + self.l2 * reg / users.numel()
