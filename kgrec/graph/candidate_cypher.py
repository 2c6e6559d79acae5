"""The Cypher of :meth:`Neo4jGraphStore.request_candidates` (semantics:
:mod:`kgrec.graph.candidate_query`), kept with the rules of :mod:`kgrec.graph.cypher`:
parameterized values, labels from the namespace, relation types re-validated."""

from __future__ import annotations

from typing import Sequence

from kgrec.graph.cypher import label_values, kg_types
from kgrec.graph.schema import Namespace

# A conversational request's candidate items (GraphStore.request_candidates; semantics in
# kgrec.graph.candidate_query). Matches come from the wanted entities ($entities: one or two
# hops) and the liked items ($items: a common neighbour) over {kg}, the matching relations;
# without either, every item is a candidate: the items of the first required entity, if any
# (so that the constraints check hundreds of items, not the catalogue). Each item's matches are
# grouped once; the required and excluded entities' items are collected once, from the entity
# side over every KG relation (an item's side holds its interactions too), and the candidates
# filtered by them in memory; then they are cut after the $limit-th in (matches, hops) order,
# ties kept (the caller breaks them by id and cuts), and returned in one row, as
# [item id, [[kind, wanted id, hops]...]] each.
CANDIDATE_MATCHES = """
  UNWIND $entities AS wanted
  MATCH (:{Entity} {{id: wanted}})-[:{kg}]-(i:{Item})
  RETURN i, 'Entity' AS kind, wanted, 1 AS hops
  UNION ALL
  UNWIND $entities AS wanted
  MATCH (:{Entity} {{id: wanted}})-[:{kg}]-(:{Item}|{Entity})-[:{kg}]-(i:{Item})
  RETURN i, 'Entity' AS kind, wanted, 2 AS hops
  UNION ALL
  UNWIND $items AS wanted
  MATCH (x:{Item} {{id: wanted}})-[:{kg}]-(n:{Item}|{Entity})-[:{kg}]-(i:{Item})
  WHERE n <> x AND i <> n AND i <> x
  RETURN i, 'Item' AS kind, wanted, 2 AS hops"""

CANDIDATE_ANY_ITEM = """
  MATCH (i:{Item})
  RETURN i, null AS kind, null AS wanted, 0 AS hops"""

CANDIDATE_REQUIRED_ITEM = """
  MATCH (:{Entity} {{id: $required[0]}})-[:!INTERACTED]-(i:{Item})
  RETURN DISTINCT i, null AS kind, null AS wanted, 0 AS hops"""

CANDIDATES = """
CALL () {{{branches}
}}
WITH i, kind, wanted, min(hops) AS hops
WITH i, collect(CASE WHEN wanted IS NOT NULL THEN [kind, wanted, hops] END) AS matches
WHERE NOT i.id IN $skip
  AND ($low IS NULL OR (i.year IS :: INTEGER NOT NULL AND i.year >= $low))
  AND ($high IS NULL OR (i.year IS :: INTEGER NOT NULL AND i.year <= $high))
WITH i, matches, size(matches) AS n, reduce(s = 0, m IN matches | s + m[2]) AS hops
ORDER BY n DESC, hops
WITH collect({{node: i, matches: matches, n: n, hops: hops}}) AS rows
CALL () {{
  UNWIND $required AS e
  OPTIONAL MATCH (:{Entity} {{id: e}})-[:!INTERACTED]-(i:{Item})
  WITH e, collect(i) AS linked
  RETURN collect(linked) AS required
}}
CALL () {{
  OPTIONAL MATCH (x:{Entity})-[:!INTERACTED]-(i:{Item}) WHERE x.id IN $excluded
  RETURN collect(i) AS banned
}}
WITH [row IN rows WHERE NOT row.node IN banned AND all(linked IN required WHERE row.node IN linked)]
     AS rows
WITH rows, rows[$limit - 1] AS last
RETURN [row IN rows
        WHERE last IS NULL OR row.n > last.n OR (row.n = last.n AND row.hops <= last.hops)
        | [row.node.id, row.matches]] AS candidates
"""


def candidates_query(
    matching: bool, required: bool, relations: Sequence[str] | None, namespace: Namespace
) -> str:
    """:data:`CANDIDATES` with the branches of a request with wanted entities or liked items
    (``matching``), or of one without (with ``required`` entities or not); ``relations``
    (re-validated) are the matching relationship types, ``None`` for all; labels in
    ``namespace``."""
    labels = label_values(namespace)
    if matching:
        branches = CANDIDATE_MATCHES
    else:
        branches = CANDIDATE_REQUIRED_ITEM if required else CANDIDATE_ANY_ITEM
    branches = branches.format(kg=kg_types(relations), **labels)
    return CANDIDATES.format(branches=branches, **labels)
