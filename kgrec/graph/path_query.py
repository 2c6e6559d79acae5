"""A checked request for the paths between a user and items (:meth:`GraphStore.paths`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Collection, Iterable, Mapping, Sequence

from kgrec.errors import InvalidValueError
from kgrec.graph.records import GraphPath, NodeRef
from kgrec.graph.schema import SPLITS, NodeLabel, validate_relation


@dataclass(frozen=True, slots=True)
class PathQuery:
    """A checked :meth:`GraphStore.paths` request: ``items`` without repeats; ``via`` maps every
    item to its allowed first-step items, or is ``None`` (no restriction); ``peers`` are the
    other users a path may pass through, most relevant first (never the user), or ``None``;
    ``relations`` the knowledge-graph relation types a path may use, or ``None`` (all);
    ``attributes`` the user attribute relation types whose paths ``user -> attribute <- peer
    -> item`` are wanted too, or ``None`` (no such path)."""

    user: str
    items: list[str]
    max_hops: int
    limit: int
    splits: list[str]
    via: dict[str, frozenset[str]] | None
    peers: tuple[str, ...] | None
    relations: tuple[str, ...] | None
    attributes: tuple[str, ...] | None

    def required(self) -> dict[NodeLabel, list[str]]:
        """The ids that must exist: the user and peers, the items and first steps."""
        items = set(self.items).union(*(self.via or {}).values())
        return {
            NodeLabel.USER: sorted({self.user, *(self.peers or ())}),
            NodeLabel.ITEM: sorted(items),
        }

    @classmethod
    def checked(
        cls,
        user_id: str,
        item_ids: Sequence[str],
        max_hops: int,
        limit: int,
        splits: Sequence[str],
        via: Mapping[str, Collection[str]] | None,
        peers: Sequence[str] | None,
        relations: Collection[str] | None,
        attributes: Collection[str] | None,
    ) -> "PathQuery":
        """The query of a :meth:`~kgrec.graph.store.GraphStore.paths` call, its arguments
        checked; raises :class:`~kgrec.errors.InvalidValueError` or
        :class:`~kgrec.errors.InvalidNameError` naming the bad one."""
        if not isinstance(user_id, str) or isinstance(item_ids, str):
            raise InvalidValueError("paths() takes a user id string and a sequence of item ids")
        if not 1 <= max_hops <= 3:
            raise InvalidValueError(f"max_hops must be 1, 2 or 3, got {max_hops}")
        if limit <= 0:
            raise InvalidValueError(f"limit must be positive, got {limit}")
        unknown = [s for s in splits if s not in SPLITS]
        if unknown:
            raise InvalidValueError(f"unknown split(s) {unknown}: expected some of {SPLITS}")
        anchors = None if via is None else {i: frozenset(via.get(i, ())) for i in item_ids}
        if peers is not None and (
            isinstance(peers, str) or not all(isinstance(p, str) for p in peers)
        ):
            raise InvalidValueError("peers must be a sequence of user id strings")
        if peers is not None:
            peers = tuple(p for p in dict.fromkeys(peers) if p != user_id)
        relations = _relation_names(relations, "relations")
        attributes = _relation_names(attributes, "attributes")
        return cls(
            user_id,
            list(dict.fromkeys(item_ids)),
            max_hops,
            limit,
            list(splits),
            anchors,
            peers,
            relations,
            attributes,
        )


def _relation_names(names: Collection[str] | None, what: str) -> tuple[str, ...] | None:
    """``names`` validated, without repeats, sorted; ``None`` stays ``None``."""
    if names is None:
        return None
    if isinstance(names, str):
        raise InvalidValueError(f"{what} must be a collection of relation names, got a string")
    return tuple(sorted({validate_relation(r) for r in names}))


#: Columns of a Neo4j path row (see :data:`~kgrec.graph.cypher.PATHS`).
PATH_COLUMNS = ("item_id", "nodes", "relations", "forward", "support")


def paths_of_rows(items: Sequence[str], rows: Iterable[Sequence]) -> dict[str, list[GraphPath]]:
    """``{item: [GraphPath]}`` from ``(item_id, nodes, relations, forward, support)`` rows
    (``nodes`` as ``(label, id, name)``; a row with no item says "no path at all"), one
    :class:`NodeRef` per node."""
    found: dict[str, list[GraphPath]] = {i: [] for i in items}
    refs: dict[tuple[str, str, str | None], NodeRef] = {}
    for item_id, nodes, relations, forward, support in rows:
        if item_id is None:
            continue
        path_nodes = []
        for key in map(tuple, nodes):
            ref = refs.get(key)
            if ref is None:
                ref = refs[key] = NodeRef(NodeLabel.parse(key[0]), key[1], key[2])
            path_nodes.append(ref)
        found[item_id].append(
            GraphPath(tuple(path_nodes), tuple(relations), tuple(forward), support)
        )
    return found
