"""The embedded store's answer to a conversation's candidate query (what
:meth:`~kgrec.graph.store.GraphStore.request_candidates` returns), over its adjacency lists:
the same semantics as the one Cypher query of :mod:`kgrec.graph.candidate_cypher`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from kgrec.graph.candidate_query import CandidateQuery, RequestCandidate
from kgrec.graph.memory_edges import EdgeView, NodeKey
from kgrec.graph.schema import NodeLabel


def request_candidates(
    query: CandidateQuery, kg: EdgeView, every: EdgeView, items: Mapping[str, Any]
) -> list[RequestCandidate]:
    """Expand from the wanted entities and liked items over ``kg`` (the query's relations),
    then keep the ``items`` (id -> stored node) that pass the constraints, checked over
    ``every`` KG relation (both views ``{node: {neighbour: links}}``)."""
    empty: dict[NodeKey, tuple] = {}
    entity_hops: dict[str, dict[str, int]] = defaultdict(dict)
    for e in query.entities:
        # x is an item or an entity: a user is an attribute's holder, not a KG hop
        near = [x for x in kg.get((NodeLabel.ENTITY, e), empty) if x[0] is not NodeLabel.USER]
        for hops, reached in ((1, near), (2, [i for x in near for i in kg.get(x, empty)])):
            for i in reached:
                if i[0] is NodeLabel.ITEM:
                    entity_hops[i[1]].setdefault(e, hops)
    liked: dict[str, set[str]] = defaultdict(set)
    for x_id in query.items:
        x: NodeKey = (NodeLabel.ITEM, x_id)
        for n in kg.get(x, empty):
            for c in kg.get(n, empty) if n != x else ():
                if c[0] is NodeLabel.ITEM and c not in (n, x):
                    liked[c[1]].add(x_id)
    found = entity_hops.keys() | liked.keys() if query.matching else items.keys()
    skip = {*query.items, *query.excluded_items}
    required = [(NodeLabel.ENTITY, e) for e in query.required]
    excluded = [(NodeLabel.ENTITY, e) for e in query.excluded_entities]
    candidates = []
    for i in found:
        links = every.get((NodeLabel.ITEM, i), empty)
        if (
            i not in skip
            and query.year_passes(items[i].properties.get("year"))
            and all(e in links for e in required)
            and not any(e in links for e in excluded)
        ):
            candidates.append(query.candidate(i, entity_hops.get(i, {}), liked.get(i, ())))
    return candidates
