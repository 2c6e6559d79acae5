"""MovieLens-100k with user and item text, genre entities, its DBpedia knowledge graph and the
shared benchmark split, built exactly as ``shared/benchmarks/README.md`` defines the ml100k graph.

Ids: users and items keep their MovieLens ids; genres are ``genre:<name>`` entities; DBpedia
entities keep their IRIs; user attributes are ``occupation:<name>``, ``age:<bucket>`` and
``gender:M|F`` entities. The DBpedia triples hang off the linked item node itself
(``Item -[starring]-> Entity``), so a film linked by two ML-100k items gives each item its edges.
Links listed in ``ml100k_item2dbpedia_rejected.tsv`` (links that point at another film) are
dropped by default, as the benchmark's graph drops them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from kgrec.errors import shown
from kgrec.graph import Interaction, NodeLabel, NodeRecord, Triple
from kgrec.graph.schema import SPLITS
from kgrec.graph.store import DEFAULT_BATCH_SIZE, GraphStore

from ._graph import GraphData, LoadReport, reports_warnings, write_graph
from ._io import find_file, find_optional, local_name, read_rows, split_header
from .link_audit import ItemLink, audit_links, title_year

GENRE_RELATION = "has_genre"
OCCUPATION_RELATION = "has_occupation"
AGE_RELATION = "in_age_group"
GENDER_RELATION = "has_gender"
#: The MovieLens-1M age buckets: (lowest age, name), ascending.
AGE_GROUPS = (
    (0, "under 18"),
    (18, "18-24"),
    (25, "25-34"),
    (35, "35-44"),
    (45, "45-49"),
    (50, "50-55"),
    (56, "56+"),
)
SPLIT_HEADER = ("user_id", "item_id", "rating", "timestamp", "split")
LINKS_FILE = "ml100k_item2dbpedia.tsv"
REJECTED_LINKS_FILE = "ml100k_item2dbpedia_rejected.tsv"

log = logging.getLogger(__name__)

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


@reports_warnings
def load_movielens100k(
    store: GraphStore,
    data_dir: str | Path,
    *,
    kg_dir: str | Path | None = None,
    split_file: str | Path | None = None,
    drop_rejected: bool = True,
    audit: bool = False,
    user_attributes: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> LoadReport:
    """Load the ml-100k folder ``data_dir`` (``u.user``, ``u.item``, ``u.genre``, ``u.data``).

    Users get text from age, gender and occupation; items get ``name`` = title and text from
    title, year and genres; each genre flag becomes an ``Item -[has_genre]-> genre:<name>`` edge.
    With ``user_attributes`` (the default), each user's attributes become entities too, so that
    users without interactions can be explained: ``User -[has_occupation]-> occupation:<name>``
    (named ``writer``), ``-[in_age_group]-> age:<bucket>`` (the MovieLens-1M buckets of
    :data:`AGE_GROUPS`, named ``25-34``) and ``-[has_gender]-> gender:M|F`` (named ``male`` /
    ``female``), each entity with a text (``occupation: writer``) for its text vector.
    ``kg_dir`` (the ``movielens-dbpedia-kg`` folder) adds the DBpedia triples whose head is a
    linked item, with entity labels as name and text. With ``drop_rejected`` (the default),
    the links listed in ``kg_dir``'s ``ml100k_item2dbpedia_rejected.tsv`` (when that file
    exists) are left out: those items keep their genres and text but get no DBpedia triple, and
    the report's ``skipped`` counts the dropped links. ``audit=True`` runs
    :func:`~kgrec.loaders.audit_links` on the links that are loaded and logs each finding as a
    warning. ``split_file`` (``user_id, item_id, rating, timestamp, split``) gives the
    interactions with their split; without it every rating in ``u.data`` is a ``train``
    interaction. Raises :class:`DataFormatError` before writing anything if a file is malformed,
    names an unknown user or item, or rejects a link the link file does not have.
    """
    data_dir = Path(data_dir)
    genres = _read_genres(data_dir / "u.genre")
    users = _read_users(data_dir / "u.user")
    items, triples = _read_items(data_dir / "u.item", genres)
    entities = [NodeRecord(_genre_id(g), f"{g} (film genre)", g) for g in genres]
    relations = {"u.item genre flag": GENRE_RELATION}
    if user_attributes:
        attribute_entities, attribute_triples = _user_attributes(users)
        entities += attribute_entities
        triples += attribute_triples
        relations.update(
            {
                "u.user occupation": OCCUPATION_RELATION,
                "u.user age": AGE_RELATION,
                "u.user gender": GENDER_RELATION,
            }
        )
    user_ids = {u.id for u in users}
    item_ids = {i.id for i in items}
    interactions = _read_interactions(
        data_dir / "u.data" if split_file is None else Path(split_file),
        user_ids,
        item_ids,
        with_split=split_file is not None,
    )
    dropped = 0
    if kg_dir is not None:
        links = _read_links(Path(kg_dir), item_ids)
        if drop_rejected:
            links, dropped = _drop_rejected(Path(kg_dir), links)
            log.info("dropped %d rejected DBpedia links, %d left", dropped, len(links))
        labels = _read_labels(Path(kg_dir))
        if audit:
            _log_audit(items, links, labels)
        kg_entities, kg_triples, kg_relations = _read_dbpedia(Path(kg_dir), links, labels)
        entities += kg_entities
        triples += kg_triples
        relations.update(kg_relations)
    data = GraphData(
        nodes={NodeLabel.USER: users, NodeLabel.ITEM: items, NodeLabel.ENTITY: entities},
        interactions=interactions,
        triple_chunks=[triples],
        skipped=dropped,
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


def age_group(age: int) -> str:
    """The MovieLens-1M bucket of ``age``: ``"under 18"``, ``"18-24"``, ... ``"56+"``."""
    return next(name for lowest, name in reversed(AGE_GROUPS) if age >= lowest)


def _user_attributes(users: list[NodeRecord]) -> tuple[list[NodeRecord], list[Triple]]:
    """The attribute entities of ``users`` (those some user has) and their user -> entity
    triples: occupation, age group and gender."""
    entities: dict[str, NodeRecord] = {}
    triples = []
    for user in users:
        age, gender, occupation = (user.properties[k] for k in ("age", "gender", "occupation"))
        group, sex = age_group(age), _GENDERS[gender]
        for relation, entity in (
            (
                OCCUPATION_RELATION,
                NodeRecord(f"occupation:{occupation}", f"occupation: {occupation}", occupation),
            ),
            (AGE_RELATION, NodeRecord(f"age:{group}", f"age group: {group}", group)),
            (GENDER_RELATION, NodeRecord(f"gender:{gender}", f"gender: {sex}", sex)),
        ):
            entities.setdefault(entity.id, entity)
            triples.append(Triple(user.id, relation, entity.id, NodeLabel.USER, NodeLabel.ENTITY))
    return list(entities.values()), triples


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


@dataclass(frozen=True, slots=True)
class _Link:
    item: str
    uri: str


def _read_links(kg_dir: Path, item_ids: set[str]) -> list[_Link]:
    """The item -> DBpedia IRI links of ``ml100k_item2dbpedia.tsv``."""
    path = find_file(kg_dir, LINKS_FILE)
    header, rows = split_header(read_rows(path), path)
    item_col, uri_col = header.column("ml100k_item_id"), header.column("dbpedia_uri")
    links = []
    for row in rows:
        item = row.text(item_col, "item id")
        if item not in item_ids:
            raise row.error(f"unknown item id {shown(item)} (not in u.item)")
        links.append(_Link(item, row.text(uri_col, "DBpedia IRI")))
    return links


def _drop_rejected(kg_dir: Path, links: list[_Link]) -> tuple[list[_Link], int]:
    """``links`` without those listed in ``ml100k_item2dbpedia_rejected.tsv`` (if the file
    exists), and how many were dropped."""
    path = find_optional(kg_dir, REJECTED_LINKS_FILE)
    if path is None:
        return links, 0
    header, rows = split_header(read_rows(path), path)
    item_col, uri_col = header.column("ml100k_item_id"), header.column("dbpedia_uri")
    known = {(link.item, link.uri) for link in links}
    rejected = set()
    for row in rows:
        pair = (row.text(item_col, "item id"), row.text(uri_col, "DBpedia IRI"))
        if pair not in known:
            raise row.error(
                f"rejects the link {shown(pair[0])} -> {shown(pair[1])}, which {LINKS_FILE} "
                "does not have"
            )
        rejected.add(pair)
    kept = [link for link in links if (link.item, link.uri) not in rejected]
    return kept, len(links) - len(kept)


def _read_labels(kg_dir: Path) -> dict[str, str]:
    """Entity IRI -> label, from ``entities.tsv``."""
    path = find_file(kg_dir, "entities.tsv")
    header, rows = split_header(read_rows(path), path)
    uri_col, label_col = header.column("uri"), header.column("label")
    return {row.text(uri_col, "entity IRI"): row.text(label_col, "label") for row in rows}


def _item_links(
    items: list[NodeRecord], links: list[_Link], labels: dict[str, str]
) -> list[ItemLink]:
    """``links`` as :class:`ItemLink` records: the item's title and the film year in it (else
    the year of ``u.item``'s release date, which is often a later video release), the
    resource's ``entities.tsv`` label (else its IRI's decoded last segment)."""
    by_id = {item.id: item for item in items}
    return [
        ItemLink(
            link.item,
            by_id[link.item].name,
            link.uri,
            labels.get(link.uri) or unquote(link.uri.rsplit("/", 1)[-1]).replace("_", " "),
            item_year=title_year(by_id[link.item].name) or by_id[link.item].properties.get("year"),
        )
        for link in links
    ]


def _log_audit(items: list[NodeRecord], links: list[_Link], labels: dict[str, str]) -> None:
    """Log every :func:`audit_links` finding on ``links`` as a warning."""
    findings = audit_links(_item_links(items, links, labels))
    for f in findings:
        log.warning("suspicious link %s -> %s (%s): %s", f.item, f.resource, f.reason, f.evidence)
    log.info("link audit: %d findings on %d links", len(findings), len(links))


def _read_dbpedia(
    kg_dir: Path, links: list[_Link], labels: dict[str, str]
) -> tuple[list[NodeRecord], list[Triple], dict[str, str]]:
    """Entities, ``Item -[relation]-> Entity`` triples and the relation mapping of the DBpedia KG,
    restricted to triples whose head is an item of ``links``."""
    items_of: dict[str, list[str]] = {}
    for link in links:
        items_of.setdefault(link.uri, []).append(link.item)
    entities_name = find_file(kg_dir, "entities.tsv").name
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
            raise row.error(f"unknown entity {shown(tail)} (not in {entities_name})")
        tails[tail] = labels[tail]
        triples += [Triple(i, relation, tail, NodeLabel.ITEM, NodeLabel.ENTITY) for i in items]
    entities = [NodeRecord(uri, label, label) for uri, label in tails.items()]
    return entities, triples, relations
