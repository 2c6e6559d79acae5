"""A training snapshot: the store's graph as contiguous indices and tensors.

Both stores export the same :class:`Snapshot` for the same data: node ids are ordered by
:func:`id_order` (ASCII-digit ids numerically, then the rest as strings), interactions by
(user, item) index and every relation's edges by (head, tail) index.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Mapping, NamedTuple, Sequence

import numpy as np
import torch

from kgrec.errors import UnknownIdError
from kgrec.graph.schema import INTERACTED, SPLITS, NodeLabel

#: (head node type, relation, tail node type), the key of a relation's edges, as in PyG.
EdgeType = tuple[str, str, str]

NODE_TYPES = tuple(label.key for label in NodeLabel)
INTERACTION_EDGE: EdgeType = ("user", INTERACTED, "item")


def id_order(node_id: str) -> tuple[int, int, str, str]:
    """Sort key for external ids: ``"2" < "010" < "10" < "abc" < "²"``.

    Ids of ASCII digits only sort by value (compared as digit strings, so any length works),
    ties by the id itself; every other id (``"a1"``, ``"²"``, ``"١٢"``) sorts after them, by code
    point. Distinct ids get distinct keys, so the order is total and the same in every store.
    """
    if node_id.isascii() and node_id.isdigit():
        digits = node_id.lstrip("0")
        return (0, len(digits), digits, node_id)
    return (1, 0, "", node_id)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tensor_digest(tensor: torch.Tensor) -> str:
    """SHA-256 of a tensor's dtype, shape and bytes (e.g. an ``[2, E]`` edge index)."""
    header = f"{tensor.dtype}{list(tensor.shape)}".encode()
    return _digest(header + tensor.detach().cpu().contiguous().numpy().tobytes())


def edge_part(edge_type: EdgeType) -> str:
    """The name of an edge type's part in fingerprints: ``"edges item-director->entity"``."""
    head, relation, tail = edge_type
    return f"edges {head}-{relation}->{tail}"


def fingerprint_changes(saved: dict[str, str], current: dict[str, str]) -> list[str]:
    """What differs between two :meth:`Snapshot.fingerprints`, one phrase per part
    (``"item ids differ"``, ``"edges item-director->entity: saved, not in this graph"``), in
    key order."""
    changes = []
    for part in sorted(saved.keys() | current.keys()):
        if part not in current:
            changes.append(f"{part}: saved, not in this graph")
        elif part not in saved:
            changes.append(f"{part}: only in this graph")
        elif saved[part] != current[part]:
            changes.append(f"{part} differ")
    return changes


class UserItems:
    """Each user's items as CSR rows: ``user_items[u]`` is the ``[n_u]`` item indices of user
    ``u``. Built from ``users``/``items`` ``[E]`` with ``users`` sorted (snapshots are)."""

    def __init__(self, users: torch.Tensor, items: torch.Tensor, num_users: int) -> None:
        counts = torch.bincount(users, minlength=num_users)
        self.ptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
        self.items = items

    def __getitem__(self, user: int) -> torch.Tensor:
        return self.items[self.ptr[user] : self.ptr[user + 1]]


@dataclass(frozen=True, slots=True)
class InteractionTable:
    """All interactions, one row each, ordered by (user, item).

    ``user`` and ``item`` are ``[E]`` long indices; ``rating`` is ``[E]`` float with NaN where
    absent; ``weight`` ``[E]`` float; ``timestamp`` ``[E]`` long with -1 where absent; ``split``
    ``[E]`` uint8 codes into :data:`kgrec.graph.schema.SPLITS`.
    """

    user: torch.Tensor
    item: torch.Tensor
    rating: torch.Tensor
    weight: torch.Tensor
    timestamp: torch.Tensor
    split: torch.Tensor

    def mask(self, splits: Iterable[str]) -> torch.Tensor:
        """Boolean ``[E]`` mask of the rows whose split is in ``splits``."""
        codes = [SPLITS.index(s) for s in splits]
        return torch.isin(self.split, torch.tensor(codes, dtype=self.split.dtype))

    def edge_index(self, splits: Iterable[str] = ("train",)) -> torch.Tensor:
        """``[2, E']`` user -> item index pairs of the given splits."""
        m = self.mask(splits)
        return torch.stack([self.user[m], self.item[m]])

    def items_by_user(self, num_users: int, splits: Iterable[str] | None = None) -> UserItems:
        """Each of ``num_users`` users' items in ``splits`` (``None``: every split)."""
        if splits is None:
            return UserItems(self.user, self.item, num_users)
        m = self.mask(splits)
        return UserItems(self.user[m], self.item[m], num_users)


@dataclass(frozen=True)
class Snapshot:
    """The graph of a store at one moment, ready for PyTorch Geometric.

    ``node_ids[t][k]`` is the external id of node ``k`` of type ``t`` (``"user"``, ``"item"``,
    ``"entity"``); ``node_text`` and ``node_name`` align with it. ``triples[(h, r, t)]`` is the
    ``[2, E_r]`` edge index of relation ``r`` from type ``h`` to type ``t``: knowledge-graph
    relations between items and entities, and user attributes (``("user", r, "entity")``).
    """

    node_ids: dict[str, list[str]]
    node_text: dict[str, list[str | None]]
    node_name: dict[str, list[str | None]]
    interactions: InteractionTable
    triples: dict[EdgeType, torch.Tensor]

    def num_nodes(self, node_type: str) -> int:
        return len(self.node_ids[node_type])

    @cached_property
    def _index(self) -> dict[str, dict[str, int]]:
        return {t: {nid: k for k, nid in enumerate(ids)} for t, ids in self.node_ids.items()}

    def index_of(self, node_type: str, ids: Sequence[str]) -> torch.Tensor:
        """Contiguous indices of external ``ids``; raises :class:`UnknownIdError` on a miss."""
        index = self._index[node_type]
        missing = [i for i in ids if i not in index]
        if missing:
            raise UnknownIdError(node_type, missing)
        return torch.tensor([index[i] for i in ids], dtype=torch.long)

    def fingerprints(self) -> dict[str, str]:
        """SHA-256 per part of the graph a model depends on, keyed by a readable name: the node
        ids of each type in index order (``"user ids"``), the train interactions
        (``"train interactions"``) and each knowledge-graph edge type's edges
        (``"edges item-director->entity"``). Two snapshots with equal fingerprints index the
        same nodes identically and hold the same training edges; :func:`fingerprint_changes`
        names the parts that differ."""
        parts = {f"{t} ids": _digest(json.dumps(ids).encode()) for t, ids in self.node_ids.items()}
        parts["train interactions"] = tensor_digest(self.interactions.edge_index(("train",)))
        for edge_type, edge_index in self.triples.items():
            parts[edge_part(edge_type)] = tensor_digest(edge_index)
        return parts

    def fingerprint(self) -> str:
        """One SHA-256 of :meth:`fingerprints`."""
        return _digest(json.dumps(self.fingerprints(), sort_keys=True).encode())

    @property
    def relations(self) -> list[str]:
        """Knowledge-graph relation names (between items and entities), sorted."""
        return sorted({rel for head, rel, _ in self.triples if head != "user"})

    @property
    def attribute_relations(self) -> list[str]:
        """User attribute relation names (user -> entity), sorted."""
        return sorted({rel for head, rel, _ in self.triples if head == "user"})

    def to_hetero_data(self, splits: Iterable[str] = ("train",), add_reverse: bool = True):
        """A :class:`torch_geometric.data.HeteroData` with the interactions of ``splits`` and
        every knowledge-graph relation and user attribute as typed edges, plus ``rev_<rel>``
        inverses if ``add_reverse``. Node stores carry ``num_nodes`` only; features are the
        model's job.
        """
        from torch_geometric.data import HeteroData

        data = HeteroData()
        for t in NODE_TYPES:
            data[t].num_nodes = self.num_nodes(t)
        edges = {INTERACTION_EDGE: self.interactions.edge_index(splits), **self.triples}
        for (h, rel, t), edge_index in edges.items():
            data[h, rel, t].edge_index = edge_index
            if add_reverse:
                data[t, f"rev_{rel}", h].edge_index = edge_index.flip(0)
        return data

    def equals(self, other: "Snapshot") -> bool:
        """True when both snapshots hold the same ids, texts, interactions and triples."""
        if (self.node_ids, self.node_text, self.node_name) != (
            other.node_ids,
            other.node_text,
            other.node_name,
        ):
            return False
        if self.triples.keys() != other.triples.keys():
            return False
        if not all(torch.equal(v, other.triples[k]) for k, v in self.triples.items()):
            return False
        a, b = self.interactions, other.interactions
        return all(
            torch.equal(x, y)
            for x, y in [
                (a.user, b.user),
                (a.item, b.item),
                (a.weight, b.weight),
                (a.timestamp, b.timestamp),
                (a.split, b.split),
            ]
        ) and torch.allclose(a.rating, b.rating, equal_nan=True)

    @classmethod
    def build(
        cls,
        nodes: dict[str, list[tuple[str, str | None, str | None]]],
        interactions: list[tuple[str, str, float | None, float, int | None, str]],
        triples: list[tuple[str, str, str, str, str]],
    ) -> "Snapshot":
        """Assemble a snapshot from plain rows, in any order (a :class:`SnapshotBuilder` fed
        with their columns).

        ``nodes[t]`` holds ``(id, text, name)``; ``interactions`` ``(user, item, rating, weight,
        timestamp, split)``; ``triples`` ``(head_type, head, relation, tail_type, tail)``.
        """
        builder = SnapshotBuilder(
            {t: NodeColumns(*zip(*rows)) for t, rows in nodes.items()}  # no rows: empty columns
        )
        if interactions:
            builder.add_interactions(*zip(*interactions))
        grouped: dict[EdgeType, tuple[list[str], list[str]]] = {}
        for ht, h, rel, tt, t in triples:
            heads, tails = grouped.setdefault((ht, rel, tt), ([], []))
            heads.append(h)
            tails.append(t)
        for edge_type, (heads, tails) in grouped.items():
            builder.add_triples(edge_type, heads, tails)
        return builder.snapshot()


class NodeColumns(NamedTuple):
    """One node type's nodes as aligned columns, in any order (none by default)."""

    ids: Sequence[str] = ()
    text: Sequence[str | None] = ()
    name: Sequence[str | None] = ()


#: dtypes of the :class:`InteractionTable` columns, in field order.
_INTERACTION_DTYPES = (np.int64, np.int64, np.float32, np.float32, np.int64, np.uint8)
_SPLIT_CODES = {split: code for code, split in enumerate(SPLITS)}


def _pair_order(first: np.ndarray, second: np.ndarray, second_size: int) -> np.ndarray:
    """The stable permutation that sorts rows by ``(first, second)``, ``0 <= second <
    second_size``: rows of an equal pair keep their order."""
    return np.argsort(first * second_size + second, kind="stable")


class SnapshotBuilder:
    """Assembles a :class:`Snapshot` from columns added in parts (e.g. pages of a query), in
    any order. Both stores build through it, so ordering and tensor layout live in one place.

    The nodes come first: they fix every id's row (:func:`id_order`). Each
    :meth:`add_interactions` / :meth:`add_triples` maps its ids to rows at once, so the builder
    keeps NumPy columns only (33 bytes per interaction, 16 per triple), never the rows' ids.
    :meth:`snapshot` sorts the interactions by (user, item) and each relation's edges by
    (head, tail), stably: rows of a repeated pair keep the order they were added in.
    """

    def __init__(self, nodes: Mapping[str, NodeColumns]) -> None:
        self.node_ids: dict[str, list[str]] = {}
        self.node_text: dict[str, list[str | None]] = {}
        self.node_name: dict[str, list[str | None]] = {}
        for t in NODE_TYPES:
            ids, text, name = nodes.get(t, NodeColumns())
            order = sorted(range(len(ids)), key=lambda k: id_order(ids[k]))
            self.node_ids[t] = [ids[k] for k in order]
            self.node_text[t] = [text[k] for k in order]
            self.node_name[t] = [name[k] for k in order]
        self._index = {t: {nid: k for k, nid in enumerate(ids)} for t, ids in self.node_ids.items()}
        self._interactions: list[list[np.ndarray]] = [[] for _ in _INTERACTION_DTYPES]
        self._triples: dict[EdgeType, list[tuple[np.ndarray, np.ndarray]]] = {}

    def _rows(self, node_type: str, ids: Sequence[str]) -> np.ndarray:
        """``[len(ids)]`` int64 rows of ``ids``; raises :class:`UnknownIdError` on a miss."""
        index = self._index[node_type]
        try:
            return np.fromiter(map(index.__getitem__, ids), dtype=np.int64, count=len(ids))
        except KeyError:
            raise UnknownIdError(node_type, [i for i in ids if i not in index]) from None

    def add_interactions(
        self,
        user: Sequence[str],
        item: Sequence[str],
        rating: Sequence[float | None],
        weight: Sequence[float],
        timestamp: Sequence[int | None],
        split: Sequence[str],
    ) -> None:
        """Add interactions, one per position of the aligned columns (``None``: no rating /
        no timestamp)."""
        n = len(user)
        nan = float("nan")
        columns = (
            self._rows("user", user),
            self._rows("item", item),
            np.fromiter((nan if r is None else r for r in rating), np.float32, count=n),
            np.fromiter(weight, np.float32, count=n),
            np.fromiter((-1 if t is None else t for t in timestamp), np.int64, count=n),
            np.fromiter(map(_SPLIT_CODES.__getitem__, split), np.uint8, count=n),
        )
        for parts, column in zip(self._interactions, columns):
            parts.append(column)

    def add_triples(self, edge_type: EdgeType, heads: Sequence[str], tails: Sequence[str]) -> None:
        """Add edges ``heads[k] -> tails[k]`` of ``edge_type`` ``(head type, relation, tail
        type)``."""
        head_type, _, tail_type = edge_type
        edges = (self._rows(head_type, heads), self._rows(tail_type, tails))
        self._triples.setdefault(edge_type, []).append(edges)

    def snapshot(self) -> Snapshot:
        """The snapshot of everything added; the builder's parts are released (call once)."""
        table = self._interaction_table()
        edge_index = {edge_type: self._edge_index(edge_type) for edge_type in sorted(self._triples)}
        return Snapshot(self.node_ids, self.node_text, self.node_name, table, edge_index)

    def _interaction_table(self) -> InteractionTable:
        columns = []
        for parts, dtype in zip(self._interactions, _INTERACTION_DTYPES):
            columns.append(np.concatenate(parts or [np.empty(0, dtype)]))
            parts.clear()  # one column's parts and its copy at a time
        order = _pair_order(columns[0], columns[1], len(self.node_ids["item"]))
        for k in range(len(columns)):
            columns[k] = columns[k][order]
        return InteractionTable(*map(torch.from_numpy, columns))

    def _edge_index(self, edge_type: EdgeType) -> torch.Tensor:
        heads, tails = (np.concatenate(column) for column in zip(*self._triples.pop(edge_type)))
        order = _pair_order(heads, tails, len(self.node_ids[edge_type[2]]))
        return torch.from_numpy(np.stack([heads[order], tails[order]]))
