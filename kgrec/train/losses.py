"""Pairwise, pointwise and listwise ranking losses over sampled negatives."""

from __future__ import annotations

from typing import Callable, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

LossName = Literal["bpr", "bce", "softmax"]


def bpr_loss(positive: Tensor, negative: Tensor) -> Tensor:
    r"""BPR: :math:`-\operatorname{mean}\log\sigma(s^+ - s^-)`; ``positive [B]``, ``negative [B, M]``."""
    return -F.logsigmoid(positive.unsqueeze(1) - negative).mean()


def bce_loss(positive: Tensor, negative: Tensor) -> Tensor:
    r"""Binary cross-entropy with logits, positives labelled 1 and sampled negatives 0,
    each side averaged: ``positive [B]``, ``negative [B, M]``."""
    return F.softplus(-positive).mean() + F.softplus(negative).mean()


def softmax_loss(positive: Tensor, negative: Tensor) -> Tensor:
    r"""Sampled softmax (InfoNCE): :math:`-\operatorname{mean}\log
    \frac{e^{s^+}}{e^{s^+} + \sum_m e^{s^-_m}}`; ``positive [B]``, ``negative [B, M]``.
    Scale the logits in the model (a temperature) and use many negatives."""
    logits = torch.cat([positive.unsqueeze(1), negative], 1)
    return (torch.logsumexp(logits, 1) - positive).mean()


LOSSES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "bpr": bpr_loss,
    "bce": bce_loss,
    "softmax": softmax_loss,
}
