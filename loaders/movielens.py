"""MovieLens-100k with user and item text, genre entities, its DBpedia knowledge graph and the
shared benchmark split, built exactly as ``shared/benchmarks/README.md`` defines the ml100k graph.

Ids: users and items keep their MovieLens ids; genres are ``genre:<name>`` entities; DBpedia
entities keep their IRIs. The DBpedia triples hang off the linked item node itself
(``Item -[starring]-> Entity``), so a film linked by two ML-100k items gives each item its edges.
"""

from __future__ import annotations

import re
from pathlib import Path

from kgrec.graph import Interaction, NodeLabel, NodeRecord, Triple
from kgrec.graph.schema import SPLITS
from kgrec.graph.store import DEFAULT_BATCH_SIZE, GraphStore

from ._graph import GraphData, LoadReport, write_graph
from ._io import find_file, local_name, read_rows, split_header

GENRE_RELATION = "has_genre"
SPLIT_HEADER = ("user_id", "item_id", "rating", "timestamp", "split")

_GENDERS = {"M": "male", "F": "female"}
# Occupations in u.user that do not read as "a <age>-year-old <gender> <occupation>".
_OCCUPATION_PHRASES = {
    "entertainment": "working in entertainment",
    "healthcare": "working in healthcare",
    "marketing": "working in marketing",
    "none": "with no occupation",
    "other": "with another occupation",
    "retired": "who is retired",
}


def load_movielens100k(
    store: GraphStore,
    data_dir: str | Path,
    *,
    kg_dir: str | Path | None = None,
    split_file: str | Path | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> LoadReport:
    """Load the ml-100k folder ``data_dir`` (``u.user``, ``u.item``, ``u.genre``, ``u.data``).

    Users get text from age, gender and occupation; items get ``name`` = title and text from
    title, year and genres; each genre flag becomes an ``Item -[has_genre]-> genre:<name>`` edge.
    ``kg_dir`` (the ``movielens-dbpedia-kg`` folder) adds the DBpedia triples whose head is a
    linked item, with entity labels as name and text. ``split_file`` (``user_id, item_id,
    rating, timestamp, split``) gives the interactions with their split; without it every
    rating in ``u.data`` is a ``train`` interaction. Raises :class:`DataFormatError` before
    writing anything if a file is malformed or names an unknown user or item.
    """
    data_dir = Path(data_dir)
    genres = _read_genres(data_dir / "u.genre")
    users = _read_users(data_dir / "u.user")
    items, triples = _read_items(data_dir / "u.item", genres)
    user_ids = {u.id for u in users}
    item_ids = {i.id for i in items}
    interactions = _read_interactions(
        data_dir / "u.data" if split_file is None else Path(split_file),
        user_ids,
        item_ids,
        with_split=split_file is not None,
    )
    entities = [NodeRecord(_genre_id(g), f"{g} (film genre)", g) for g in genres]
    relations = {"u.item genre flag": GENRE_RELATION}
    if kg_dir is not None:
        kg_entities, kg_triples, kg_relations = _read_dbpedia(Path(kg_dir), item_ids)
        entities += kg_entities
        triples += kg_triples
        relations.update(kg_relations)
    data = GraphData(
        nodes={NodeLabel.USER: users, NodeLabel.ITEM: items, NodeLabel.ENTITY: entities},
        interactions=interactions,
        triple_chunks=[triples],
        relations=relations,
    )
    return write_graph(store, data, batch_size)


def _genre_id(genre: str) -> str:
    return f"genre:{genre}"


def _read_genres(path: Path) -> list[str]:
    """Genre names in flag order; ``u.genre`` lines are ``name|index`` with index 0, 1, ..."""
    genres = []
    for row in read_rows(path, "|", fields=2):
        if row.integer(1, "genre index") != len(genres):
            raise row.error(f"expected genre index {len(genres)}, found {row.fields[1]!r}")
        genres.append(row.text(0, "genre name"))
    return genres


def user_text(age: int, gender: str, occupation: str) -> str:
    """``"A 24-year-old male technician"``, ``"An 18-year-old female student"``."""
    article = "An" if str(age).startswith("8") or age in (11, 18) else "A"
    job = _OCCUPATION_PHRASES.get(occupation, occupation)
    return f"{article} {age}-year-old {_GENDERS[gender]} {job}"


def _read_users(path: Path) -> list[NodeRecord]:
    users = []
    for row in read_rows(path, "|", fields=5):
        age = row.integer(1, "age", minimum=0)
        gender = row.text(2, "gender")
        if gender not in _GENDERS:
            raise row.error(f"gender must be M or F, found {gender!r}")
        occupation = row.text(3, "occupation")
        users.append(
            NodeRecord(
                row.text(0, "user id"),
                user_text(age, gender, occupation),
                properties={
                    "age": age,
                    "gender": gender,
                    "occupation": occupation,
                    "zip_code": row.fields[4].strip(),
                },
            )
        )
    return users


def _read_items(path: Path, genres: list[str]) -> tuple[list[NodeRecord], list[Triple]]:
    """Items and their ``has_genre`` triples. ``u.item`` is Latin-1 encoded."""
    items, triples = [], []
    for row in read_rows(path, "|", fields=5 + len(genres), encoding="latin-1"):
        item_id = row.text(0, "item id")
        title = row.text(1, "title")
        flags = [
            row.integer(5 + k, f"flag of genre {g!r}", minimum=0) for k, g in enumerate(genres)
        ]
        if any(f > 1 for f in flags):
            raise row.error("genre flags must be 0 or 1")
        names = [g for g, f in zip(genres, flags) if f]
        year = re.search(r"([0-9]{4})$", row.fields[2].strip())
        parts = (
            [title] + ([f"Year: {year.group(1)}"] if year else []) + [f"Genres: {', '.join(names)}"]
        )
        properties: dict = {"genres": names} if names else {}
        if year:
            properties["year"] = int(year.group(1))
        items.append(NodeRecord(item_id, ". ".join(parts) + ".", title, properties))
        triples += [
            Triple(item_id, GENRE_RELATION, _genre_id(g), NodeLabel.ITEM, NodeLabel.ENTITY)
            for g in names
        ]
    return items, triples


def _read_interactions(
    path: Path, user_ids: set[str], item_ids: set[str], *, with_split: bool
) -> list[Interaction]:
    """``u.data`` rows (``user item rating timestamp``, all ``train``), or split-file rows with a
    header and a fifth ``split`` column."""
    rows = read_rows(path, "\t")
    if with_split:
        _, rows = split_header(rows, path, SPLIT_HEADER)
    interactions = []
    for row in rows:
        row.expect(5 if with_split else 4)
        user, item = row.text(0, "user id"), row.text(1, "item id")
        if user not in user_ids:
            raise row.error(f"unknown user id {user!r} (not in u.user)")
        if item not in item_ids:
            raise row.error(f"unknown item id {item!r} (not in u.item)")
        split = row.text(4, "split") if with_split else "train"
        if split not in SPLITS:
            raise row.error(f"split must be one of {SPLITS}, found {split!r}")
        interactions.append(
            Interaction(
                user,
                item,
                rating=row.number(2, "rating"),
                timestamp=row.integer(3, "timestamp"),
                split=split,
            )
        )
    return interactions


def _read_dbpedia(
    kg_dir: Path, item_ids: set[str]
) -> tuple[list[NodeRecord], list[Triple], dict[str, str]]:
    """Entities, ``Item -[relation]-> Entity`` triples and the relation mapping of the DBpedia KG,
    restricted to triples whose head is an item linked by ``ml100k_item2dbpedia.tsv``."""
    links_path = find_file(kg_dir, "ml100k_item2dbpedia.tsv")
    header, rows = split_header(read_rows(links_path), links_path)
    item_col, uri_col = header.column("ml100k_item_id"), header.column("dbpedia_uri")
    items_of: dict[str, list[str]] = {}
    for row in rows:
        item = row.text(item_col, "item id")
        if item not in item_ids:
            raise row.error(f"unknown item id {item!r} (not in u.item)")
        items_of.setdefault(row.text(uri_col, "DBpedia IRI"), []).append(item)

    entities_path = find_file(kg_dir, "entities.tsv")
    header, rows = split_header(read_rows(entities_path), entities_path)
    uri_col, label_col = header.column("uri"), header.column("label")
    labels = {row.text(uri_col, "entity IRI"): row.text(label_col, "label") for row in rows}

    triples_path = find_file(kg_dir, "triples.tsv")
    _, rows = split_header(read_rows(triples_path), triples_path, ("head", "relation", "tail"))
    triples, relations, tails = [], {}, {}
    for row in rows:
        items = items_of.get(row.text(0, "head"))
        if not items:
            continue
        source = row.text(1, "relation")
        relation = relations.get(source) or row.relation(local_name(source))
        relations[source] = relation
        tail = row.text(2, "tail")
        if tail not in labels:
            raise row.error(f"unknown entity {tail!r} (not in {entities_path.name})")
        tails[tail] = labels[tail]
        triples += [Triple(i, relation, tail, NodeLabel.ITEM, NodeLabel.ENTITY) for i in items]
    entities = [NodeRecord(uri, label, label) for uri, label in tails.items()]
    return entities, triples, relations
