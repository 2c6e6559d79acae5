"""A seeded recommender graph of any size with realistic skew, for the scale benchmarks.

``interactions`` (user, item) pairs, all distinct: user activity and item popularity follow
power laws (each node's weight is a Pareto draw, shape :data:`USER_SHAPE` / :data:`ITEM_SHAPE`;
the heaviest users reach a few percent of the catalogue, most have a handful of items), one
user per :data:`USERS_PER` interactions and one item per :data:`ITEMS_PER`; every interaction
has a timestamp and a split (80/10/10 at random). A knowledge graph of :data:`RELATIONS`
item -> entity relations, each item linked to 1-3 entities per relation, entities drawn with
their own power-law popularity (a few prolific directors, many one-film actors).

Everything is NumPy arrays (:class:`GeneratedGraph`); :meth:`GeneratedGraph.load` writes it into
any :class:`~kgrec.GraphStore` in chunks, so the Python records of the whole graph never exist
at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

import torch

from kgrec import GraphStore, Interaction, NodeRecord, Snapshot, Triple
from kgrec.graph.schema import SPLITS
from kgrec.graph.snapshot import InteractionTable

USERS_PER = 15
ITEMS_PER = 40
USER_SHAPE = 1.2
ITEM_SHAPE = 1.0
RELATIONS = ("genre", "director", "cast", "studio")
ENTITIES_PER_ITEM = 0.5


def _ids(n: int) -> list[str]:
    """Ids ``"0"`` .. ``str(n - 1)``: digit ids sort by value, so node ``k`` is row ``k``."""
    return [str(k) for k in range(n)]


def _weights(rng: np.random.Generator, n: int, shape: float) -> np.ndarray:
    """``[n]`` probabilities from Pareto draws, shuffled: a power-law popularity."""
    w = rng.pareto(shape, n) + 1.0
    return w / w.sum()


def _pairs(rng: np.random.Generator, n: int, heads: np.ndarray, tails: np.ndarray) -> np.ndarray:
    """``n`` distinct codes ``head * len(tails) + tail``, heads and tails drawn by their weights;
    a head holds at most half of the tails."""
    codes = np.empty(0, dtype=np.int64)
    while codes.size < n:
        extra = int((n - codes.size) * 1.3) + 1000
        h = rng.choice(heads.size, extra, p=heads)
        t = rng.choice(tails.size, extra, p=tails)
        codes = np.unique(np.concatenate([codes, h.astype(np.int64) * tails.size + t]))
        degree = np.bincount(codes // tails.size, minlength=heads.size)
        full = degree > tails.size // 2
        if full.any():  # cap the heaviest heads: drop their surplus at random
            keep = ~full[codes // tails.size]
            keep[rng.permutation(np.flatnonzero(~keep))[: (tails.size // 2) * int(full.sum())]] = True
            codes = codes[keep]
    return np.sort(rng.permutation(codes)[:n])


@dataclass
class GeneratedGraph:
    """``user``/``item`` ``[n]`` interaction rows (sorted by user), ``split`` codes (0 train,
    1 valid, 2 test: :data:`~kgrec.graph.schema.SPLITS`), ``timestamp``;
    ``head``/``relation``/``tail`` the KG triples (item row, index into :data:`RELATIONS`,
    entity row)."""

    num_users: int
    num_items: int
    num_entities: int
    user: np.ndarray
    item: np.ndarray
    split: np.ndarray
    timestamp: np.ndarray
    head: np.ndarray
    relation: np.ndarray
    tail: np.ndarray

    @classmethod
    def generate(cls, interactions: int, seed: int = 0) -> "GeneratedGraph":
        rng = np.random.default_rng(seed)
        num_users = max(interactions // USERS_PER, 2)
        num_items = max(interactions // ITEMS_PER, 2)
        num_entities = max(int(num_items * ENTITIES_PER_ITEM), len(RELATIONS))
        codes = _pairs(rng, interactions, _weights(rng, num_users, USER_SHAPE),
                       _weights(rng, num_items, ITEM_SHAPE))
        heads, relations, tails = [], [], []
        entity_weights = _weights(rng, num_entities, 1.1)
        for r in range(len(RELATIONS)):
            links = rng.integers(1, 4, num_items)
            head = np.repeat(np.arange(num_items), links)
            tail = rng.choice(num_entities, head.size, p=entity_weights)
            code = np.unique(head.astype(np.int64) * num_entities + tail)
            heads.append(code // num_entities)
            tails.append(code % num_entities)
            relations.append(np.full(code.size, r))
        return cls(
            num_users, num_items, num_entities,
            user=codes // num_items, item=codes % num_items,
            split=rng.choice(3, interactions, p=[0.8, 0.1, 0.1]),
            timestamp=rng.integers(8 * 10**8, 9 * 10**8, interactions),
            head=np.concatenate(heads), relation=np.concatenate(relations), tail=np.concatenate(tails),
        )

    @property
    def num_interactions(self) -> int:
        return int(self.user.size)

    def snapshot(self) -> Snapshot:
        """The :class:`~kgrec.Snapshot` a store holding this graph gives, built from the arrays
        directly (node ``k`` of each type has id ``str(k)`` and is row ``k``)."""
        sizes = {"user": self.num_users, "item": self.num_items, "entity": self.num_entities}
        node_ids = {t: _ids(n) for t, n in sizes.items()}
        n = self.num_interactions
        table = InteractionTable(
            user=torch.from_numpy(self.user), item=torch.from_numpy(self.item),
            rating=torch.full((n,), float("nan")), weight=torch.ones(n),
            timestamp=torch.from_numpy(self.timestamp),
            split=torch.from_numpy(self.split.astype(np.uint8)),
        )
        triples = {}
        for r, relation in enumerate(RELATIONS):
            keep = self.relation == r
            triples[("item", relation, "entity")] = torch.from_numpy(np.stack([self.head[keep], self.tail[keep]]))
        text = {t: [None] * len(ids) for t, ids in node_ids.items()}
        names = {"user": text["user"], "item": [f"Item {i}" for i in node_ids["item"]],
                 "entity": [f"Entity {e}" for e in node_ids["entity"]]}
        return Snapshot(node_ids, text, names, table, dict(sorted(triples.items())))

    def load(self, store: GraphStore, chunk: int = 200_000, progress: bool = True) -> None:
        """Write the graph into ``store``: nodes, then interactions and triples ``chunk`` at a time."""
        users, items, entities = (_ids(n) for n in (self.num_users, self.num_items, self.num_entities))
        store.upsert_nodes("User", (NodeRecord(u) for u in users))
        store.upsert_nodes("Item", (NodeRecord(i, name=f"Item {i}") for i in items))
        store.upsert_nodes("Entity", (NodeRecord(e, name=f"Entity {e}") for e in entities))
        bar = tqdm(total=self.num_interactions + self.head.size, desc="load", unit="rel", disable=not progress)
        for start in range(0, self.num_interactions, chunk):
            rows = slice(start, start + chunk)
            store.upsert_interactions(
                Interaction(users[u], items[i], None, 1.0, t, s)
                for u, i, t, s in zip(self.user[rows].tolist(), self.item[rows].tolist(),
                                      self.timestamp[rows].tolist(),
                                      [SPLITS[c] for c in self.split[rows].tolist()])
            )
            bar.update(min(chunk, self.num_interactions - start))
        for start in range(0, self.head.size, chunk):
            rows = slice(start, start + chunk)
            store.upsert_triples(
                Triple(items[h], RELATIONS[r], entities[t], "Item", "Entity")
                for h, r, t in zip(self.head[rows].tolist(), self.relation[rows].tolist(),
                                   self.tail[rows].tolist())
            )
            bar.update(min(chunk, self.head.size - start))
        bar.close()
