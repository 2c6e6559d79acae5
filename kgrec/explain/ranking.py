"""Rank graph paths by how much of the model's score flows along them."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from kgrec.graph.records import GraphPath
from kgrec.graph.snapshot import Snapshot


def path_view(path: GraphPath) -> str:
    """The item relation the path's last hop enters the item by: ``rel`` when the edge points
    into the item, ``rev_rel`` when it points out of it (PyG's inverse-edge naming)."""
    rel = path.relations[-1]
    return rel if path.forward[-1] else f"rev_{rel}"


class PathRanker:
    r"""Weighs a path :math:`u \to a \cdots b \to i` by a first-order estimate of the share of
    the score :math:`s_{ui}` that flows along it:

    .. math::
        w(p) = \alpha_{ui}\Big(\frac{\langle \mathbf{x}_a, \mathbf{x}_i\rangle}{d_u}
               + a_{u,r(p)} \frac{\langle \mathbf{x}_u, \mathbf{x}_b\rangle}{d_{r(p)}(i)}\Big)

    The first term is what liked item :math:`a` brings to the user's representation, the second
    what the neighbour :math:`b` brings to the item's view :math:`r(p)` (weighted by the
    user's attention :math:`a_{u,r}` to that relation). :math:`d_u` is the user's train degree
    (1 for a user without any), :math:`d_r(i)` the item's number of :math:`r`-neighbours,
    :math:`\mathbf{x}` the model's final node embeddings, L2-normalized for a model that scores
    by cosine (with ``cosine``), :math:`\alpha_{ui}` its user-item attention. A direct
    interaction path weighs :math:`\langle \mathbf{x}_u, \mathbf{x}_i\rangle`. (Dividing the
    first term by :math:`\sqrt{d_a}` as LightGCN's propagation does picked paths whose removal
    hurt the score less, in the deletion test of ``benchmarks/explain.py``.)

    An attribute path :math:`u \to e \leftarrow b \to i` (a peer :math:`b` who shares the
    attribute entity :math:`e` interacted with :math:`i`, see
    :attr:`~kgrec.graph.records.GraphPath.starts_with_attribute`) has no first term: :math:`e`
    is no liked item, and the model does not propagate over user attribute edges. It weighs
    the second term alone, :math:`\alpha_{ui} a_{u,r(p)} \langle \mathbf{x}_u,
    \mathbf{x}_b\rangle / d_{r(p)}(i)`, :math:`r(p)` being the interaction view: always
    finite, and below the weight of the path :math:`u \to a \leftarrow b \to i` through the
    same peer whenever that path's first term is positive. The
    :class:`~kgrec.explain.explainer.Explainer` asks for attribute paths only for items that
    have no other path, so within one item the two kinds rarely meet.

    A path through other users, :math:`u \to a \leftarrow b \to i`, stands for all
    :math:`n` = :attr:`~kgrec.graph.records.GraphPath.support` users :math:`b` who make it
    true, and removing the reason removes all their edges: its second term is :math:`n` times
    the mean second term of the paths of its aggregate at hand (the store returns those of the
    user's nearest peers). Weighing the aggregate as a whole rather than by its heaviest member
    raised the deletion test's ratio (top vs random unit) on held-out users.

    :meth:`anchors` and :meth:`peers` pick the liked items and the other users whose paths
    weigh most, so a store can be asked for those paths only.

    Args:
        snapshot: the graph the model was trained on (its train split gives the degrees).
        embeddings: ``{node type: [N_t, d]}`` final embeddings; types without embeddings
            (e.g. entities for a model that ignores the KG) count as zero vectors.
        cosine: normalize the embeddings first (for a model whose score is a cosine).
    """

    def __init__(
        self, snapshot: Snapshot, embeddings: Mapping[str, Tensor], cosine: bool = False
    ) -> None:
        self.snapshot = snapshot
        if cosine:
            embeddings = {t: F.normalize(e, dim=-1) for t, e in embeddings.items()}
        self.embeddings = {t: e.detach().float().numpy() for t, e in embeddings.items()}
        graph = snapshot.to_hetero_data(("train",), add_reverse=True)
        num_items = snapshot.num_nodes("item")
        self.item_degree = {
            rel: torch.bincount(graph[src, rel, dst].edge_index[1], minlength=num_items).numpy()
            for src, rel, dst in graph.edge_types
            if dst == "item"
        }
        train = snapshot.interactions.edge_index(("train",))
        self.user_degree = torch.bincount(train[0], minlength=snapshot.num_nodes("user")).numpy()
        self._row = {t: {i: k for k, i in enumerate(ids)} for t, ids in snapshot.node_ids.items()}

    def anchors(self, liked: Sequence[int], items: Sequence[int], n: int) -> list[list[int]]:
        r"""For each of ``items`` (rows), the ``n`` rows of ``liked`` with the largest first
        term :math:`\langle \mathbf{x}_a, \mathbf{x}_i\rangle`, best first."""
        if not len(liked) or n <= 0:
            return [[] for _ in items]
        x = self.embeddings["item"]
        liked = np.asarray(liked)
        weight = x[liked] @ x[np.asarray(items)].T  # [L, K]
        n = min(n, len(liked))
        top = np.argsort(-weight, axis=0, kind="stable")[:n]  # [n, K]
        return liked[top].T.tolist()

    def peers(self, user: int, n: int) -> list[int]:
        r"""The rows of the ``n`` other users whose co-interaction paths weigh most for any
        item: largest :math:`\langle \mathbf{x}_u, \mathbf{x}_b\rangle`, best first."""
        x = self.embeddings["user"]
        weight = x @ x[user]
        weight[user] = -np.inf
        n = min(n, len(weight) - 1)
        if n <= 0:
            return []
        top = np.argpartition(-weight, n - 1)[:n]
        return top[np.argsort(-weight[top], kind="stable")].tolist()

    def weigh(
        self,
        user_id: str,
        paths: Mapping[str, Sequence[GraphPath]],
        attention: Mapping[str, float],
        alpha: Mapping[str, float],
    ) -> dict[str, list[float]]:
        r"""Weights of ``paths[item]`` (all from ``user_id`` to ``item``), in order, per item.

        ``attention`` maps item relations (views) to the user's attention; relations it does
        not name get ``1 / len(self.item_degree)``. ``alpha`` maps every item to
        :math:`\alpha_{ui}`. Costs one ``[N_t, d]`` matrix-vector product per node type and
        one ``[N_items, d]`` product per item, then a lookup per path.
        """
        rows = self._row
        u = rows["user"][user_id]
        x_u = self.embeddings["user"][u]
        to_user = {t: table @ x_u for t, table in self.embeddings.items()}  # <x_u, x_b>, all b
        deg_u = max(int(self.user_degree[u]), 1)
        default = 1.0 / max(len(self.item_degree), 1)
        items = self.embeddings["item"]
        weighed = {}
        for item_id, item_paths in paths.items():
            i = rows["item"][item_id]
            to_item = (items @ items[i]) / deg_u if item_paths else None  # <x_a, x_i> / d_u, all a
            terms = []  # (user side, item side) of each path; the direct path's weight apart
            for path in item_paths:
                if len(path) == 1:
                    terms.append((float(to_user["item"][i]), None))
                    continue
                a, b = path.nodes[1], path.nodes[-2]
                user_side = 0.0 if path.starts_with_attribute else float(to_item[rows["item"][a.id]])
                item_side = 0.0
                b_type = b.label.key
                if b_type in to_user:
                    view = path_view(path)
                    degrees = self.item_degree.get(view)
                    deg_b = max(int(degrees[i]), 1) if degrees is not None else 1
                    x_ub = float(to_user[b_type][rows[b_type][b.id]])
                    item_side = attention.get(view, default) * x_ub / deg_b
                terms.append((user_side, item_side))
            weighed[item_id] = _per_unit(item_paths, terms, alpha[item_id])
        return weighed


def _per_unit(
    paths: Sequence[GraphPath], terms: Sequence[tuple[float, float | None]], alpha: float
) -> list[float]:
    r"""``alpha * (user side + item side)`` of each path (a direct path's ``(weight, None)``
    as it is), where a path through other users stands for all
    :attr:`~GraphPath.support` of them: its item side is the mean over the paths of its
    aggregate (:meth:`~GraphPath.aggregate_key`) at hand times ``support``, the estimate of
    what flows through every one of their edges (the edges the deletion test removes as one)."""
    item_sides: dict[tuple, list[float]] = {}
    for path, (_, item_side) in zip(paths, terms):
        if path.support is not None:
            item_sides.setdefault(path.aggregate_key(), []).append(item_side)
    weights = []
    for path, (user_side, item_side) in zip(paths, terms):
        if item_side is None:
            weights.append(user_side)
            continue
        if path.support is not None:
            found = item_sides[path.aggregate_key()]
            item_side = path.support * sum(found) / len(found)
        weights.append(alpha * (user_side + item_side))
    return weights
