"""Every Cypher statement kgrec sends, in one place.

Values are always parameters (``$rows``, ``$ids``...). The only things formatted into a statement
are node labels from :class:`~kgrec.graph.schema.NodeLabel` (a fixed enum) spelled in a validated
:class:`~kgrec.graph.schema.Namespace`, relationship types, property keys and index names that
passed :func:`~kgrec.graph.schema.validate_name`, and the fixed path branches
:func:`paths_query` selects. :func:`render` re-validates what it splices, so a caller cannot
bypass it.

Relationship types are global to a database, so every pattern anchors both ends of a
relationship on the namespace's labels (``{User}``, ``{Item}``, ``{Entity}``; ``{any}`` is any of
the three): no query reads, counts or deletes a relationship to a node kgrec did not write.
Reads return a node's kind as the plain label (``'Item'``) from ``{kind_<var>}``, whatever other
labels the node carries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

from kgrec.graph.schema import (
    INTERACTED,
    Namespace,
    NodeLabel,
    validate_name,
    validate_relation,
)

if TYPE_CHECKING:
    from kgrec.graph.records import GraphPath

# row.properties holds text and name only when given, so absent ones stay as stored (no
# coalesce on the node: that would make the plan eager).
UPSERT_NODES = """
UNWIND $rows AS row
MERGE (n:{label} {{id: row.id}})
SET n += row.properties
"""

# Relationships are always MERGEd between bound nodes: MERGE locks both nodes before it creates
# one, so concurrent loads of the same rows cannot duplicate a relationship.
UPSERT_INTERACTIONS = """
UNWIND $rows AS row
MATCH (u:{User} {{id: row.user}})
MATCH (i:{Item} {{id: row.item}})
MERGE (u)-[r:INTERACTED]->(i)
SET r.rating = row.rating, r.weight = row.weight, r.timestamp = row.timestamp, r.split = row.split,
    r.kind = row.kind, r.source = row.source
"""

UPSERT_TRIPLES = """
UNWIND $rows AS row
MATCH (h:{head_label} {{id: row.head}})
MATCH (t:{tail_label} {{id: row.tail}})
MERGE (h)-[:`{relation}`]->(t)
"""

# One branch per label; render() with ``param`` naming that label's id list.
MISSING_IDS = """
UNWIND ${param} AS id
OPTIONAL MATCH (n:{label} {{id: id}})
WITH id, n WHERE n IS NULL
RETURN '{kind}' AS label, id"""

# A read statement behind an id check, in one round trip: the one or more rows carry
# ``missing`` ([label, id] pairs), and the statement's columns only when nothing is missing
# (nulls when it has no rows).
CHECKED = """
CALL () {{{check}
}}
WITH collect([label, id]) AS missing
OPTIONAL CALL (missing) {{
  WITH missing WHERE size(missing) = 0{statement}
}}
RETURN *
"""


def missing_ids_query(
    ids: Mapping[NodeLabel, Sequence[str]], namespace: Namespace
) -> tuple[str, dict[str, list[str]]]:
    """``(query, parameters)`` returning a ``(label, id)`` row (plain label) for each id with no
    node of its label in ``namespace``."""
    labels = list(ids)
    query = "\nUNION ALL".join(
        render(MISSING_IDS, namespace, label=label, param=f"ids{k}")
        for k, label in enumerate(labels)
    )
    return query, {f"ids{k}": list(ids[label]) for k, label in enumerate(labels)}

WRITE_EMBEDDINGS = """
UNWIND $rows AS row
MATCH (n:{label} {{id: row.id}})
SET n.`{property}` = row.vector
"""

READ_EMBEDDINGS = """
UNWIND $ids AS id
MATCH (n:{label} {{id: id}})
RETURN n.`{property}` AS vector
"""

GET_NODES = """
UNWIND $ids AS id
MATCH (n:{label} {{id: id}})
RETURN n.id AS id, n.text AS text, n.name AS name, properties(n) AS properties
"""

# snapshot(): a keyset page of a label's nodes in id order (the id constraint's index serves
# it), in one row: the page's size, last id and rows, [id, text, name] per node...
_PAGE = """MATCH (n:{label}) WHERE n.id > $after WITH n ORDER BY n.id LIMIT $page
WITH collect(n) AS page RETURN size(page) AS size, page[-1].id AS last, """
SNAPSHOT_NODES = _PAGE + "[n IN page | [n.id, n.text, n.name]] AS rows"
# ...or the users' [user, item, rating, weight, timestamp, split] per interaction, or the nodes'
# [head, relation, tail label, tail] per KG triple or user attribute.
SNAPSHOT_INTERACTIONS = _PAGE + """COLLECT {{ UNWIND page AS n
  MATCH (n)-[r:INTERACTED]->(i:{Item})
  RETURN [n.id, i.id, r.rating, r.weight, r.timestamp, r.split] }} AS rows"""
SNAPSHOT_TRIPLES = _PAGE + """COLLECT {{ UNWIND page AS n
  MATCH (n)-[r:!INTERACTED]->(t:{Item}|{Entity})
  RETURN [n.id, type(r), {kind_t}, t.id] }} AS rows"""

USER_INTERACTIONS = """// one row per user that exists, with all its interactions (or [])
UNWIND $ids AS id
MATCH (u:{User} {{id: id}})
OPTIONAL MATCH (u)-[r:INTERACTED]->(i:{Item})
RETURN u.id AS user, [x IN collect([i.id, r.rating, r.weight, r.timestamp, r.split, r.kind,
       r.source]) WHERE x[0] IS NOT NULL] AS interactions"""

COUNT_NODES = "MATCH (n:{label}) RETURN count(n) AS n"

# The relationships snapshot() reads, per type (a type with none has no row, or a zero count).
COUNT_RELATIONSHIPS = """
MATCH (:{User})-[r:INTERACTED]->(:{Item})
RETURN 'INTERACTED' AS type, count(r) AS n
UNION ALL
MATCH (:{any})-[r:!INTERACTED]->(:{Item}|{Entity})
RETURN type(r) AS type, count(r) AS n
"""

NEIGHBOURS = """
MATCH (n:{label} {{id: $id}})-[r]-(m:{any})
WHERE $relation IS NULL OR type(r) = $relation
RETURN type(r) AS relation, startNode(r) = n AS outgoing,
       {kind_m} AS label, m.id AS id, m.name AS name
"""

# Simple paths (no repeated node) of 1..3 relationships from a user to each of $items, one
# branch per shape. A path starts u -> liked item ($via: allowed liked items per target item,
# $anchors: their union, or both null), or, in the attribute branches only, u -> attribute
# entity (a user's only other relationships). Length 3 joins the user's 2-hop frontier with
# the items' neighbourhoods on the middle node (a hash join) instead of expanding all walks
# from u; a middle user is any co-user, or, with $peers, the earliest listed peer per (first
# hop, item) pair among all of them. {kg} is the KG relationship type
# expression: the given types, so that expanding an item skips its interactions, or any but
# INTERACTED. The attribute branches follow u -[attr]-> a <-[same attr]- b -> i over the types
# of $attributes (a parameter: a user has few relationships and an attribute entity only its
# users', so filtering by type costs nothing, and one plan serves every attribute list).
# A path through another user b carries its support (GraphPath.support): the users b <> u who
# make the same reason true, i.e. the join's rows of one (first hop, item), counted as they are
# grouped (_EVERY_USER, _EARLIEST_PEER); null for the other paths. Joining every co-user, then
# keeping the earliest peer, costs less than expanding the peers' interactions and counting
# per path (half the time or less on ml100k).
PATH_DIRECT = """
  MATCH (u)-[r1:INTERACTED]->(i:{Item})
  WHERE i.id IN $items AND r1.split IN $splits
  RETURN i, [u, i] AS ns, [r1] AS rs, null AS support"""

PATH_VIA_ITEM = """
  MATCH (u)-[r1:INTERACTED]->(a:{Item})-[r2:{kg}]-(i:{Item})
  WHERE i.id IN $items AND r1.split IN $splits AND a <> i
    AND ($via IS NULL OR a.id IN $via[i.id])
  RETURN i, [u, a, i] AS ns, [r1, r2] AS rs, null AS support"""

PATH_VIA_KG_NODE = """
  MATCH (u)-[r1:INTERACTED]->(a:{Item})-[r2:{kg}]-(b:{Item}|{Entity})
  WHERE r1.split IN $splits AND b <> a AND ($anchors IS NULL OR a.id IN $anchors)
  MATCH (b)-[r3:{kg}]-(i:{Item})
  USING JOIN ON b
  WHERE i.id IN $items AND i <> a AND i <> b AND ($via IS NULL OR a.id IN $via[i.id])
  RETURN i, [u, a, b, i] AS ns, [r1, r2, r3] AS rs, null AS support"""

# u -r1-> a <-r2- b -r3-> i for every other user b: through a liked item a...
_CO_USERS = """
  MATCH (u)-[r1:INTERACTED]->(a:{Item})<-[r2:INTERACTED]-(b:{User})
  WHERE r1.split IN $splits AND r2.split IN $splits AND b <> u
    AND ($anchors IS NULL OR a.id IN $anchors)
  MATCH (b)-[r3:INTERACTED]->(i:{Item})
  USING JOIN ON b
  WHERE i.id IN $items AND i <> a AND r3.split IN $splits
    AND ($via IS NULL OR a.id IN $via[i.id])"""

# ...or through an attribute entity a that b holds by the same relationship type.
_CO_HOLDERS = """
  MATCH (u)-[r1]->(a:{Entity})<-[r2]-(b:{User})
  WHERE type(r1) IN $attributes AND type(r2) = type(r1) AND b <> u
  MATCH (b)-[r3:INTERACTED]->(i:{Item})
  USING JOIN ON b
  WHERE i.id IN $items AND r3.split IN $splits"""

# Every such path, each with the number of users b of its (r1, i).
_EVERY_USER = """
  WITH u, r1, a, i, collect([b, r2, r3]) AS hops
  UNWIND hops AS hop
  RETURN i, [u, a, hop[0], i] AS ns, [r1, hop[1], hop[2]] AS rs, size(hops) AS support"""

# The nodes of $peers, in order (compared as nodes below: no property read per row)...
_PEER_NODES = """
  UNWIND range(0, size($peers) - 1) AS rank
  MATCH (peer:{User} {{id: $peers[rank]}})
  WITH u, peer ORDER BY rank
  WITH u, collect(peer) AS peers"""

# ...and one path per (r1, i), through the earliest of them among its users b, if any, with
# the number of all of them.
_EARLIEST_PEER = """
  WITH u, r1, a, i, peers, count(b) AS support,
       collect(CASE WHEN b IN peers THEN [b, r2, r3] END) AS hops
  WHERE size(hops) > 0
  WITH u, r1, a, i, support, [p IN peers | head([h IN hops WHERE h[0] = p])] AS by_rank
  WITH u, r1, a, i, support, head([h IN by_rank WHERE h IS NOT NULL]) AS best
  RETURN i, [u, a, best[0], i] AS ns, [r1, best[1], best[2]] AS rs, support"""

PATH_VIA_USER = _CO_USERS + _EVERY_USER
PATH_VIA_PEER = _PEER_NODES + _CO_USERS + _EARLIEST_PEER
PATH_VIA_ATTRIBUTE = _CO_HOLDERS + _EVERY_USER
PATH_VIA_ATTRIBUTE_PEER = _PEER_NODES + _CO_HOLDERS + _EARLIEST_PEER


def paths_query(
    max_hops: int,
    peers: bool,
    relations: Sequence[str] | None,
    attributes: bool,
    namespace: Namespace,
) -> str:
    """:data:`PATHS` with the branches for paths of 1..``max_hops`` relationships; with
    ``peers``, middle users come from ``$peers``; ``relations`` (re-validated) are the KG
    relationship types the paths may use, ``None`` for all; with ``attributes``, paths
    through the user attributes of ``$attributes`` are added (see ``GraphStore.paths``);
    labels in ``namespace``."""
    if isinstance(max_hops, bool) or not isinstance(max_hops, int) or not 1 <= max_hops <= 3:
        raise ValueError(f"max_hops must be 1..3, got {max_hops!r}")
    kg = [PATH_VIA_ITEM, PATH_VIA_KG_NODE] if relations is None or relations else []
    via_attribute = [PATH_VIA_ATTRIBUTE_PEER if peers else PATH_VIA_ATTRIBUTE] if attributes else []
    by_length = (
        [PATH_DIRECT],
        kg[:1],
        [*kg[1:], PATH_VIA_PEER if peers else PATH_VIA_USER, *via_attribute],
    )
    labels = label_values(namespace)
    types = kg_types(relations)
    branches = [b.format(kg=types, **labels) for group in by_length[:max_hops] for b in group]
    return PATHS.format(branches="\n  UNION ALL".join(branches), **labels)


# Ordered like GraphPath.sort_key and cut to $limit per item, for all items in one round trip.
PATHS = """
MATCH (u:{User} {{id: $user}})
CALL (u) {{{branches}
}}
WITH i, ns, rs, support,
     [n IN ns | [{kind_n}, n.id]] AS node_key,
     [k IN range(0, size(rs) - 1) | [type(rs[k]), startNode(rs[k]) = ns[k]]] AS rel_key
ORDER BY size(rs), node_key, rel_key
WITH i, collect({{nodes: [n IN ns | [{kind_n}, n.id, n.name]], rel_key: rel_key, support: support}})
     [..$limit] AS paths
UNWIND paths AS p
RETURN i.id AS item_id, p.nodes AS nodes,
       [x IN p.rel_key | x[0]] AS relations, [x IN p.rel_key | x[1]] AS forward,
       p.support AS support
"""

# clear(): first the relationships among the namespace's nodes, then the nodes, in batches. The
# nodes go with DELETE (the server refuses a node that still has a relationship) unless the
# caller agreed to DETACH DELETE the relationships to foreign nodes as well.
FOREIGN_LINKS = """
MATCH (n:{any})-[r]-(m) WHERE NOT m:{any}
RETURN count(DISTINCT n) AS nodes, count(r) AS relationships
"""

DELETE_RELATIONSHIPS = """
MATCH (:{any})-[r]->(:{any}) WITH r LIMIT $batch
DELETE r
RETURN count(*) AS deleted
"""

DELETE_NODES = """
MATCH (n:{any}) WITH n LIMIT $batch
{delete} n
RETURN count(*) AS deleted
"""

CREATE_VECTOR_INDEX = """
CREATE VECTOR INDEX {name} IF NOT EXISTS
FOR (n:{label}) ON n.`{property}`
OPTIONS {{indexConfig: {{`vector.dimensions`: $dimensions, `vector.similarity_function`: $similarity}}}}
"""

AWAIT_INDEXES = "CALL db.awaitIndexes(300)"

SHOW_VECTOR_INDEX = "SHOW VECTOR INDEXES YIELD name, options WHERE name = $name RETURN options"

DROP_INDEX = "DROP INDEX {name} IF EXISTS"

QUERY_VECTOR_INDEX = """
CALL db.index.vector.queryNodes($index, $k, $vector) YIELD node, score
RETURN node.id AS id, score
"""

def kg_types(relations: Sequence[str] | None) -> str:
    """The relationship type expression of the KG relations ``relations`` (re-validated), or
    of every KG relation for ``None``."""
    if relations is None:
        return f"!{INTERACTED}"
    return "|".join(f"`{validate_relation(r)}`" for r in relations)


SERVER_VERSION = """
CALL dbms.components() YIELD name, versions WHERE name = 'Neo4j Kernel'
RETURN versions[0] AS version
"""


def label_values(namespace: Namespace) -> dict[str, str]:
    """The label placeholders every template may use, spelled in ``namespace``."""
    values = {member.value: label for label, member in namespace.labels.items()}
    values["any"] = "|".join(namespace.labels)
    for var in "nmht":  # the node's plain label, from its namespaced one
        cases = " ".join(f"WHEN {var}:{label} THEN '{m.value}'" for label, m in namespace.labels.items())
        values[f"kind_{var}"] = f"CASE {cases} END"
    return values


def render(
    template: str, namespace: Namespace, *, label: NodeLabel | None = None, **names: str | int
) -> str:
    """Format ``template`` with labels in ``namespace`` (``{label}`` is ``label``'s, ``{kind}``
    its plain name) and validated names.

    ``relation``, ``property``, ``name``, ``head_label`` and ``tail_label`` are checked here.
    """
    values: dict[str, str | int] = label_values(namespace)
    if label is not None:
        values["label"] = namespace.label(label)
        values["kind"] = NodeLabel.parse(label).value
    for key, value in names.items():
        if key in ("head_label", "tail_label"):
            values[key] = namespace.label(value)
        elif key == "delete":
            if value not in ("DELETE", "DETACH DELETE"):
                raise ValueError(f"delete must be DELETE or DETACH DELETE, got {value!r}")
            values[key] = value
        else:
            values[key] = validate_name(value, key)
    return template.format(**values)


def path_query(
    paths: Sequence["GraphPath"], namespace: Namespace, splits: Sequence[str] = ("train",)
) -> tuple[str, dict[str, object]]:
    """``MATCH p0 = (...)-[...]-(...) MATCH p1 = ... RETURN p0, p1, ...`` for the given paths,
    with labels in ``namespace``, every id a parameter and every relationship type
    re-validated. One MATCH per path, so paths that share a relationship still match.

    A path through another user (:attr:`GraphPath.peer`) matches its aggregate instead: the
    peer is any user but the path's own whose interactions on the path are in ``$splits``
    (``splits``: the explanations' train split by default), and ``pk`` is the list of those
    paths, one per user its ``support`` counts (no row when there is none). Returns ``(query,
    parameters)``."""
    if not paths:
        raise ValueError("path_query needs at least one path")
    clauses, params, done = [], {}, []
    for k, path in enumerate(paths):
        parts, where = [], []
        for j, node in enumerate(path.nodes):
            key = f"p{k}n{j}"
            label = namespace.label(node.label)
            if j == 2 and path.peer is not None:
                parts.append(f"({key}:{label})")
                where.append(f"{key}.id <> $p{k}n0")
            else:
                params[key] = node.id
                parts.append(f"(:{label} {{id: ${key}}})")
            if j < len(path.relations):
                rel = validate_name(path.relations[j], "relation")
                var = ""
                if path.peer is not None and j > 0 and rel == INTERACTED:  # the peer's
                    var = f"p{k}r{j}"
                    where.append(f"{var}.split IN $splits")
                parts.append(f"-[{var}:`{rel}`]->" if path.forward[j] else f"<-[{var}:`{rel}`]-")
        clauses.append(f"MATCH p{k} = {''.join(parts)}")
        if where:
            params["splits"] = list(splits)
            clauses.append(f"WHERE {' AND '.join(where)}")
            kept = "".join(f"{name}, " for name in done)
            clauses.append(f"WITH {kept}collect(p{k}) AS p{k} WHERE size(p{k}) > 0")
        done.append(f"p{k}")
    return "\n".join(clauses) + f"\nRETURN {', '.join(done)}", params
