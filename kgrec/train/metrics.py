"""Top-K ranking metrics from ranked item lists and relevance masks."""

from __future__ import annotations

import torch
from torch import Tensor

METRIC_NAMES = ("recall", "precision", "ndcg", "hit", "mrr")


def ranking_metrics(top_items: Tensor, relevant: Tensor, ks: tuple[int, ...]) -> dict[str, Tensor]:
    """Per-user metrics ``{"<name>@<k>": [B]}`` for ``name`` in :data:`METRIC_NAMES`.

    ``top_items`` ``[B, K]`` holds each user's ranked item indices (K >= max(ks)); ``relevant``
    ``[B, N]`` is True at the user's relevant items. Binary relevance: Recall = hits / |rel|,
    Precision = hits / k, NDCG = DCG / IDCG with IDCG over min(k, |rel|) items, HitRate = any
    hit, MRR = 1 / rank of the first hit (0 without one). Users with no relevant item get NaN.
    """
    hits = relevant.gather(1, top_items).float()  # [B, K]
    num_relevant = relevant.sum(1).float()  # [B]
    ranks = torch.arange(1, hits.size(1) + 1, dtype=torch.float32, device=hits.device)
    discount = 1.0 / torch.log2(ranks + 1.0)
    ideal = torch.cumsum(discount, 0)
    none = torch.where(num_relevant > 0, 1.0, float("nan"))
    out: dict[str, Tensor] = {}
    for k in ks:
        h = hits[:, :k]
        count = h.sum(1)
        idcg = ideal[(num_relevant.clamp(min=1, max=k) - 1).long()]
        out[f"recall@{k}"] = count / num_relevant.clamp(min=1) * none
        out[f"precision@{k}"] = count / k * none
        out[f"ndcg@{k}"] = (h * discount[:k]).sum(1) / idcg * none
        out[f"hit@{k}"] = (count > 0).float() * none
        out[f"mrr@{k}"] = (h / ranks[:k]).max(1).values * none
    return out
