"""A snapshot grown by new nodes and their edges, without reading the store again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import torch
from torch import Tensor

from kgrec.graph.records import Interaction, NodeRecord, Triple
from kgrec.graph.schema import SPLITS
from kgrec.graph.snapshot import NODE_TYPES, EdgeType, InteractionTable, Snapshot, id_order


@dataclass(frozen=True)
class Growth:
    """A grown snapshot and where the old nodes went: ``rows[t][k]`` is the new row of the old
    snapshot's node ``k`` of type ``t`` (new ids are merged in :func:`id_order`, so rows shift)."""

    snapshot: Snapshot
    rows: dict[str, Tensor]


def grow_snapshot(
    snapshot: Snapshot,
    nodes: Mapping[str, Sequence[NodeRecord]],
    interactions: Sequence[Interaction] = (),
    triples: Sequence[Triple] = (),
) -> Growth:
    """``snapshot`` plus ``nodes[t]`` (new ids only), ``interactions`` and ``triples`` (new
    edges, each touching a new node): equal to what ``store.snapshot()`` returns once the same
    validated records are written to a store that held ``snapshot``. Costs a sort of each node
    type's ids and of the edges, no Python loop over old edges.

    Raises ``ValueError`` for a node id that exists already (the caller validates first)."""
    node_ids, node_text, node_name, rows = {}, {}, {}, {}
    for t in NODE_TYPES:
        added = nodes.get(t, ())
        old = list(zip(snapshot.node_ids[t], snapshot.node_text[t], snapshot.node_name[t]))
        merged = sorted(old + [(r.id, r.text, r.name) for r in added], key=lambda row: id_order(row[0]))
        node_ids[t] = [row[0] for row in merged]
        if len(set(node_ids[t])) != len(merged):
            raise ValueError(f"a new {t} id exists already")
        node_text[t] = [row[1] for row in merged]
        node_name[t] = [row[2] for row in merged]
        index = {node_id: k for k, node_id in enumerate(node_ids[t])}
        rows[t] = torch.tensor([index[i] for i in snapshot.node_ids[t]], dtype=torch.long)
    index = {t: {node_id: k for k, node_id in enumerate(ids)} for t, ids in node_ids.items()}
    grown = Snapshot(
        node_ids,
        node_text,
        node_name,
        _grown_interactions(snapshot.interactions, rows, index, interactions),
        _grown_triples(snapshot.triples, rows, index, triples),
    )
    return Growth(grown, rows)


def _grown_interactions(
    table: InteractionTable,
    rows: Mapping[str, Tensor],
    index: Mapping[str, Mapping[str, int]],
    added: Sequence[Interaction],
) -> InteractionTable:
    """The old rows moved to the new node rows, plus ``added``, ordered by (user, item)."""
    new = [
        (
            index["user"][r.user],
            index["item"][r.item],
            float("nan") if r.rating is None else r.rating,
            r.weight,
            -1 if r.timestamp is None else r.timestamp,
            SPLITS.index(r.split),
        )
        for r in added
    ]
    columns = list(zip(*new)) if new else [()] * 6
    user = torch.cat([rows["user"][table.user], torch.tensor(columns[0], dtype=torch.long)])
    item = torch.cat([rows["item"][table.item], torch.tensor(columns[1], dtype=torch.long)])
    order = torch.argsort(user * len(index["item"]) + item, stable=True)
    return InteractionTable(
        user=user[order],
        item=item[order],
        rating=torch.cat([table.rating, torch.tensor(columns[2], dtype=torch.float32)])[order],
        weight=torch.cat([table.weight, torch.tensor(columns[3], dtype=torch.float32)])[order],
        timestamp=torch.cat([table.timestamp, torch.tensor(columns[4], dtype=torch.long)])[order],
        split=torch.cat([table.split, torch.tensor(columns[5], dtype=torch.uint8)])[order],
    )


def _grown_triples(
    triples: Mapping[EdgeType, Tensor],
    rows: Mapping[str, Tensor],
    index: Mapping[str, Mapping[str, int]],
    added: Sequence[Triple],
) -> dict[EdgeType, Tensor]:
    """Each edge type's old edges moved to the new node rows, plus ``added``, ordered by
    (head, tail); edge types in sorted order, as :meth:`Snapshot.build` gives them."""
    pairs: dict[EdgeType, list[tuple[int, int]]] = {}
    for t in added:
        head, tail = t.head_label.key, t.tail_label.key
        pairs.setdefault((head, t.relation, tail), []).append((index[head][t.head], index[tail][t.tail]))
    grown = {}
    for edge_type in sorted(triples.keys() | pairs.keys()):
        head, _, tail = edge_type
        old = triples.get(edge_type, torch.empty(2, 0, dtype=torch.long))
        new = torch.tensor(pairs.get(edge_type, []), dtype=torch.long).reshape(-1, 2).t()
        edges = torch.cat([torch.stack([rows[head][old[0]], rows[tail][old[1]]]), new], 1)
        order = torch.argsort(edges[0] * len(index[tail]) + edges[1], stable=True)
        grown[edge_type] = edges[:, order].contiguous()
    return grown
