"""What a candidate shares, in the knowledge graph, with the items a user liked: per relation."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from kgrec.graph.snapshot import INTERACTION_EDGE, EdgeType
from kgrec.models.sorted_keys import find_sorted, range_entries

#: The dense table is built once this many users have been scored; before, rows multiply sparsely.
DENSE_FROM = 64


def _sparse(index: Tensor, values: Tensor, size: tuple[int, int]) -> Tensor:
    return torch.sparse_coo_tensor(index, values, size).coalesce()


class KnowledgeOverlap(torch.nn.Module):
    r"""The knowledge-graph overlap of candidate items with each user's liked (train) items,
    one figure per item-entity relation :math:`r`; no parameters, a fixed function of the graph.

    With :math:`\mathbf{A}_r` ``[I, E]`` the items' relation-:math:`r` links to entities (either
    direction), weighted by the entity's inverse item frequency
    :math:`\log\frac{I + 1}{\deg_r(e) + 1}` and each row scaled to unit length
    (:math:`\hat{\mathbf{a}}_{rj}`):

    .. math::
        s_{ijr} = \hat{\mathbf{a}}_{rj}^\top \frac{1}{|\mathcal{N}_i|}
                  \sum_{k \in \mathcal{N}_i} \hat{\mathbf{a}}_{rk}

    the mean cosine between the candidate's and the liked items' entity sets: a candidate
    sharing a rare director with many of the user's films scores high, one sharing only the
    Drama genre low. A liked item is matched against the others only (leave-one-out, as the
    scorer's :class:`~kgrec.models.scorer.LikedItems` does), so training cannot find an item
    in its own profile.

    The figures depend on the graph only: when the ``[U, R, I]`` table holds at most
    ``dense_limit`` numbers (ml100k: 14 million) it is computed once and indexed; beyond that
    each call computes its users' rows from sparse matrices (slower per call, memory
    :math:`O(\mathrm{nnz})`). Shapes: :meth:`forward` ``users [B]``, ``items [K]`` (default all)
    -> ``[B, R, K]``; :meth:`pairs` ``[B]``, ``[B]`` -> ``[B, R]``; :meth:`own` ``items [K]`` ->
    ``[K, R]`` (:math:`\lVert\hat{\mathbf{a}}_{rj}\rVert^2`, 1 or 0).
    """

    def __init__(self, graph: HeteroData, dense_limit: int = 2**25) -> None:
        super().__init__()
        self.num_items = graph["item"].num_nodes
        num_entities = graph["entity"].num_nodes if "entity" in graph.node_types else 0
        liked = graph[INTERACTION_EDGE].edge_index
        num_users = graph["user"].num_nodes
        counts = torch.bincount(liked[0], minlength=num_users).float()
        mean = _sparse(liked, counts[liked[0]].reciprocal(), (num_users, self.num_items))
        links: dict[str, list[Tensor]] = {}
        for edge_type in graph.edge_types:
            pair = self._item_entity(edge_type, graph)
            if pair is not None:
                links.setdefault(edge_type[1], []).append(pair)
        self.relations: list[str] = sorted(links)
        items, profiles, own = [], [], []
        for relation in self.relations:
            index = torch.cat(links[relation], 1).unique(dim=1)  # [2, L] item, entity (sorted)
            degree = torch.bincount(index[1], minlength=num_entities).float()
            weight = torch.log((self.num_items + 1) / (degree[index[1]] + 1))
            norm = torch.zeros(self.num_items).index_add_(0, index[0], weight.pow(2)).sqrt()
            a = _sparse(index, weight / norm[index[0]], (self.num_items, num_entities))
            items.append(a)
            profiles.append(torch.sparse.mm(mean, a).coalesce())  # [U, E]
            own.append(torch.zeros(self.num_items).index_fill_(0, index[0].unique(), 1.0))
        self.num_entities = num_entities
        self._items = items
        self._profiles = profiles
        # the profiles' entries by key user * E + entity (sorted: coalesced), and each user's
        # range of them; each item's links as CSR rows
        self._profile_keys = [p.indices()[0] * num_entities + p.indices()[1] for p in profiles]
        self._profile_ptr = [torch.searchsorted(k, torch.arange(num_users + 1) * num_entities)
                             for k in self._profile_keys]
        self._item_ptr = [torch.searchsorted(a.indices()[0], torch.arange(self.num_items + 1))
                          for a in items]
        self.register_buffer(
            "_own", torch.stack(own, 1) if own else torch.zeros(self.num_items, 0), persistent=False
        )
        # the dense [U, R, I] table, built once the users scored add up to DENSE_FROM (the first
        # training batch, or a served model's first requests); a model grown for a one-off
        # fold-in of a new person scores sparsely and never pays for it
        self._dense = bool(items) and num_users * len(items) * self.num_items <= dense_limit
        self._scored = 0
        self.register_buffer("_table", None, persistent=False)
    def _table_for(self, users: Tensor) -> Tensor | None:
        """The dense table once it pays (built then), else ``None``."""
        self._scored += users.numel()
        if self._table is None and self._dense and self._scored >= DENSE_FROM:
            self._table = torch.stack(
                [torch.sparse.mm(p, a.t()).to_dense() for a, p in zip(self._items, self._profiles)], 1
            )  # [U, R, I]
        return self._table

    @staticmethod
    def _item_entity(edge_type: EdgeType, graph: HeteroData) -> Tensor | None:
        """``[2, L]`` (item, entity) pairs of an item-entity edge type, or ``None``."""
        head, relation, tail = edge_type
        if relation.startswith("rev_"):
            return None
        edge_index = graph[edge_type].edge_index
        if (head, tail) == ("item", "entity"):
            return edge_index
        if (head, tail) == ("entity", "item"):
            return edge_index.flip(0)
        return None

    @property
    def num_relations(self) -> int:
        return len(self.relations)

    def _apply(self, fn, recurse=True):  # the sparse matrices and their indexes follow the module
        for name in ("_items", "_profiles", "_profile_keys", "_profile_ptr", "_item_ptr"):
            setattr(self, name, [fn(t) for t in getattr(self, name)])
        return super()._apply(fn, recurse)

    def _entries(self, ptr: Tensor, rows: Tensor) -> tuple[Tensor, Tensor]:
        """``(owner, at)``: the entries of CSR rows ``rows`` ``[B]`` (pointers ``ptr``)."""
        return range_entries(ptr[rows], ptr[rows + 1] - ptr[rows])

    def _lookup(self, r: int, users: Tensor, entities: Tensor) -> Tensor:
        """Relation ``r``'s profile entries at ``(users, entities)`` (same shape), 0 where none."""
        values = self._profiles[r].values()
        at, found = find_sorted(self._profile_keys[r], users * self.num_entities + entities)
        return torch.where(found, values[at], 0.0) if values.numel() else torch.zeros(users.shape, device=users.device)

    def _rows_against(self, r: int, users: Tensor, items: Tensor) -> Tensor:
        """``[B, K]`` relation ``r``'s figures of ``users`` against a few ``items``: the users'
        profile rows (CSR) times a dense ``[E, K]`` of the items' links."""
        a = self._items[r]
        owner, at = self._entries(self._item_ptr[r], items)
        links = torch.zeros(self.num_entities, items.numel(), device=items.device)
        links.index_put_((a.indices()[1][at], owner), a.values()[at], accumulate=True)
        row, entry = self._entries(self._profile_ptr[r], users)
        keys = self._profile_keys[r][entry]
        rows = torch.sparse_coo_tensor(torch.stack([row, keys % self.num_entities]),
                                       self._profiles[r].values()[entry], (users.numel(), self.num_entities))
        return torch.sparse.mm(rows, links)

    def forward(self, users: Tensor, items: Tensor | None = None) -> Tensor:
        """``[B, R, K]`` :math:`s_{ijr}` of ``users`` against ``items`` (default all), each
        user's own liked items matched against the whole profile (see :meth:`own`)."""
        table = self._table_for(users)
        if table is not None:
            rows = table[users]
            return rows if items is None else rows[:, :, items]
        out = []
        for r, (a, profile) in enumerate(zip(self._items, self._profiles)):
            if items is not None:
                out.append(self._rows_against(r, users, items))
                continue
            rows = profile.index_select(0, users)  # [B, E]
            out.append(torch.sparse.mm(rows, a.t()).to_dense())
        num_items = self.num_items if items is None else items.numel()
        return torch.stack(out, 1) if out else torch.zeros(users.numel(), 0, num_items, device=users.device)

    def pairs(self, users: Tensor, items: Tensor) -> Tensor:
        """``[B, R]`` :math:`s_{ijr}` of the pairs ``(users[b], items[b])``."""
        table = self._table_for(users)
        if table is not None:
            return table[users, :, items]
        out = []
        for r, a in enumerate(self._items):  # sum over each item's few links
            owner, at = self._entries(self._item_ptr[r], items)
            found = self._lookup(r, users[owner], a.indices()[1][at])
            out.append(torch.zeros(users.numel(), device=users.device).index_add_(0, owner, found * a.values()[at]))
        return torch.stack(out, 1) if out else torch.zeros(users.numel(), 0, device=users.device)

    def own(self, items: Tensor | None = None) -> Tensor:
        """``[K, R]`` what an item's own links add to its match with a profile it is part of:
        1 where it has a relation-``r`` link, else 0."""
        return self._own if items is None else self._own[items]
