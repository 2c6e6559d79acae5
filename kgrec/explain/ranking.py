"""Rank graph paths by how much of the model's score flows along them."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch
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
        w(p) = \alpha_{ui}\Big(\frac{\langle \mathbf{x}_a, \mathbf{x}_i\rangle}{|N(u)|}
               + a_{u,r(p)} \frac{\langle \mathbf{x}_u, \mathbf{x}_b\rangle}{|N_{r(p)}(i)|}\Big)

    The first term is what liked item :math:`a` brings to the user's representation, the second
    what the neighbour :math:`b` brings to the item's view :math:`r(p)` (weighted by the
    user's attention :math:`a_{u,r}` to that relation). :math:`\mathbf{x}` are the model's final
    node embeddings, :math:`\alpha_{ui}` its user-item attention. A direct interaction path
    weighs :math:`\langle \mathbf{x}_u, \mathbf{x}_i\rangle`.

    Args:
        snapshot: the graph the model was trained on (its train split gives the degrees).
        embeddings: ``{node type: [N_t, d]}`` final embeddings; types without embeddings
            (e.g. entities for a model that ignores the KG) count as zero vectors.
    """

    def __init__(self, snapshot: Snapshot, embeddings: Mapping[str, Tensor]) -> None:
        self.snapshot = snapshot
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

    def _vector(self, node_type: str, node_id: str) -> np.ndarray | None:
        table = self.embeddings.get(node_type)
        if table is None:
            return None
        return table[self._row[node_type][node_id]]

    def weigh(
        self,
        user_id: str,
        paths: Sequence[GraphPath],
        attention: Mapping[str, float],
        alpha: float = 1.0,
    ) -> list[float]:
        """Weights of ``paths`` (all from ``user_id`` to one item), in order.

        ``attention`` maps item relations (views) to the user's attention; relations it does
        not name get ``1 / len(self.item_degree)``.
        """
        if not paths:
            return []
        u = self._vector("user", user_id)
        target = paths[0].nodes[-1]
        x_i = self._vector("item", target.id)
        i = self._row["item"][target.id]
        deg_u = max(int(self.user_degree[self._row["user"][user_id]]), 1)
        default = 1.0 / max(len(self.item_degree), 1)
        weights = []
        for path in paths:
            if len(path) == 1:
                weights.append(float(u @ x_i))
                continue
            a, b = path.nodes[1], path.nodes[-2]
            view = path_view(path)
            x_a = self._vector("item", a.id)
            x_b = self._vector(b.label.key, b.id)
            user_side = float(x_a @ x_i) / deg_u
            item_side = 0.0
            if x_b is not None:
                deg_b = max(int(self.item_degree.get(view, np.ones(i + 1))[i]), 1)
                item_side = attention.get(view, default) * float(u @ x_b) / deg_b
            weights.append(alpha * (user_side + item_side))
        return weights
