"""``kgrec load``: one subcommand per loader of :mod:`kgrec.loaders`, into the embedded store
(``--graph FOLDER``) or Neo4j. Each subcommand's options mirror its loader's arguments; loads
are upserts, so re-running one changes nothing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer

from kgrec.cli.options import StoreOptions, opened_store, reported_errors, with_store
from kgrec.cli.toml_files import check_keys, field_names, read_toml
from kgrec.errors import DataFormatError, shown
from kgrec.graph import GraphStore
from kgrec.graph.store import DEFAULT_BATCH_SIZE

app = typer.Typer(
    no_args_is_help=True, help="Load a dataset into the graph store (one subcommand per format)."
)

BatchSize = Annotated[int, typer.Option(min=1, help="rows per write transaction")]
Relations = Annotated[
    Optional[list[str]],
    typer.Option(
        "--relation",
        metavar="SOURCE=NAME",
        show_default=False,
        help="name the relation SOURCE (as the data spells it) NAME; SOURCE= skips its triples (repeatable)",
    ),
]
ExistingDir = dict(exists=True, file_okay=False)
ExistingFile = dict(exists=True, dir_okay=False)


def relation_map(pairs: list[str] | None) -> dict[str, str | None] | None:
    """``["dbo:starring=starring", "x="]`` -> ``{"dbo:starring": "starring", "x": None}``."""
    if not pairs:
        return None
    mapping: dict[str, str | None] = {}
    for pair in pairs:
        source, equals, name = pair.rpartition("=")
        if not equals or not source:
            raise typer.BadParameter(f"expected SOURCE=NAME, got {shown(pair)}", param_hint="--relation")
        mapping[source] = name or None
    return mapping


def _load(store: StoreOptions, what: str, load: Callable[[GraphStore], Any]) -> None:
    """Run ``load(graph store)`` and print its report and the store's counts."""
    with reported_errors(f"load {what}"), opened_store(store) as graph:
        started = time.perf_counter()
        report = load(graph)
        stats = graph.stats()
    where = f"the embedded store in {store.graph}" if store.graph is not None else "Neo4j"
    typer.echo(f"Loaded {what} into {where} in {time.perf_counter() - started:.1f}s: {report}")
    typer.echo("nodes:         " + ", ".join(f"{k} {v:,}" for k, v in stats.nodes.items()))
    typer.echo("relationships: " + ", ".join(f"{k} {v:,}" for k, v in stats.relationships.items()))


@app.command(
    "ml100k",
    epilog="Example: kgrec load ml100k data/movielens-100k --kg-dir data/movielens-dbpedia-kg "
    "--split-file benchmarks/ml100k/split.tsv --graph stores/ml100k",
)
@with_store
def ml100k(
    data_dir: Annotated[
        Path, typer.Argument(help="the ml-100k folder (u.user, u.item, u.genre, u.data)", **ExistingDir)
    ],
    kg_dir: Annotated[
        Optional[Path],
        typer.Option(
            help="the movielens-dbpedia-kg folder: DBpedia triples of linked items",
            show_default=False,
            **ExistingDir,
        ),
    ] = None,
    split_file: Annotated[
        Optional[Path],
        typer.Option(
            help="interactions with their split (user_id, item_id, rating, timestamp, split); "
            "default: every rating of u.data in train",
            show_default=False,
            **ExistingFile,
        ),
    ] = None,
    drop_rejected: Annotated[
        bool,
        typer.Option(help="leave out the links listed in the KG folder's ml100k_item2dbpedia_rejected.tsv"),
    ] = True,
    audit: Annotated[bool, typer.Option(help="audit the loaded links and log each finding")] = False,
    user_attributes: Annotated[
        bool, typer.Option(help="occupation, age group and gender as entities")
    ] = True,
    batch_size: BatchSize = DEFAULT_BATCH_SIZE,
    store: StoreOptions = StoreOptions(),
) -> None:
    """MovieLens-100k, with its DBpedia knowledge graph (load_movielens100k)."""
    from kgrec.loaders import load_movielens100k

    _load(
        store,
        "ml100k",
        lambda graph: load_movielens100k(
            graph,
            data_dir,
            kg_dir=kg_dir,
            split_file=split_file,
            drop_rejected=drop_rejected,
            audit=audit,
            user_attributes=user_attributes,
            batch_size=batch_size,
        ),
    )


@app.command(
    "kgat",
    epilog="Example: kgrec load kgat data/kgat/last-fm --store neo4j --neo4j-uri bolt://localhost:7687",
)
@with_store
def kgat(
    data_dir: Annotated[
        Path,
        typer.Argument(help="a KGAT/KGIN dataset folder (train.txt, test.txt, kg_final.txt)", **ExistingDir),
    ],
    relation: Relations = None,
    batch_size: BatchSize = DEFAULT_BATCH_SIZE,
    store: StoreOptions = StoreOptions(),
) -> None:
    """A KGAT/KGIN benchmark folder (load_kgat); --relation maps org ids of relation_list.txt."""
    from kgrec.loaders import load_kgat

    mapping = relation_map(relation)
    _load(
        store, "kgat", lambda graph: load_kgat(graph, data_dir, relation_map=mapping, batch_size=batch_size)
    )


@app.command("kgcn", epilog="Example: kgrec load kgcn data/kgcn-book-crossing --graph stores/book")
@with_store
def kgcn(
    data_dir: Annotated[
        Optional[Path],
        typer.Argument(help="a KGCN/RippleNet dataset folder", show_default=False, **ExistingDir),
    ] = None,
    ratings: Annotated[
        Optional[Path],
        typer.Option(
            help="ratings_final.txt or .npy (default: found in DATA_DIR)", show_default=False, **ExistingFile
        ),
    ] = None,
    kg: Annotated[
        Optional[Path],
        typer.Option(
            help="kg_final.txt or .npy (default: found in DATA_DIR)", show_default=False, **ExistingFile
        ),
    ] = None,
    item_index: Annotated[
        Optional[Path],
        typer.Option(
            help="item_index2entity_id.txt (default: found in DATA_DIR)", show_default=False, **ExistingFile
        ),
    ] = None,
    split_file: Annotated[
        Optional[Path],
        typer.Option(
            help="interactions with their split (user_id, item_id, split)", show_default=False, **ExistingFile
        ),
    ] = None,
    relation: Relations = None,
    batch_size: BatchSize = DEFAULT_BATCH_SIZE,
    store: StoreOptions = StoreOptions(),
) -> None:
    """A KGCN/RippleNet dataset (load_kgcn): the files given, else found in DATA_DIR."""
    from kgrec.loaders import load_kgcn

    if data_dir is None and None in (ratings, kg, item_index):
        raise typer.BadParameter(
            "give DATA_DIR, or all of --ratings, --kg and --item-index", param_hint="DATA_DIR"
        )
    mapping = relation_map(relation)
    _load(
        store,
        "kgcn",
        lambda graph: load_kgcn(
            graph,
            data_dir,
            ratings=ratings,
            kg=kg,
            item_index=item_index,
            split_file=split_file,
            relation_map=mapping,
            batch_size=batch_size,
        ),
    )


@app.command(
    "rdf",
    epilog="Example: kgrec load rdf films.nt --item-prefix http://example.org/film/ --graph stores/films",
)
@with_store
def rdf(
    path: Annotated[
        Path, typer.Argument(help="an N-Triples, Turtle, RDF/XML or JSON-LD file", **ExistingFile)
    ],
    format: Annotated[
        Optional[str],
        typer.Option(help="rdflib format name (default: from the file name)", show_default=False),
    ] = None,
    relation: Relations = None,
    text_predicate: Annotated[
        str, typer.Option(help="the predicate whose literal is a node's text")
    ] = "http://www.w3.org/2000/01/rdf-schema#label",
    item_prefix: Annotated[
        Optional[list[str]],
        typer.Option(
            help="untyped nodes whose IRI starts with this are items (repeatable)", show_default=False
        ),
    ] = None,
    item_ids: Annotated[
        Optional[Path],
        typer.Option(help="a file of item IRIs, one a line", show_default=False, **ExistingFile),
    ] = None,
    batch_size: BatchSize = DEFAULT_BATCH_SIZE,
    store: StoreOptions = StoreOptions(),
) -> None:
    """Any RDF graph (load_rdf); --item-prefix and --item-ids say which untyped nodes are items."""
    from kgrec.loaders import load_rdf

    listed = (
        set()
        if item_ids is None
        else {line.strip() for line in item_ids.read_text().splitlines() if line.strip()}
    )
    prefixes = tuple(item_prefix or ())

    def is_item(iri: str) -> bool:
        return iri in listed or iri.startswith(prefixes)

    mapping = relation_map(relation)
    _load(
        store,
        "rdf",
        lambda graph: load_rdf(
            graph,
            path,
            format=format,
            relation_map=mapping,
            text_predicate=text_predicate,
            item_ids=is_item if listed or prefixes else None,
            batch_size=batch_size,
        ),
    )


@app.command(
    "csv",
    epilog="Example: kgrec load csv tables.toml --graph stores/mine  (see load_csv's "
    "NodesCsv, InteractionsCsv, TriplesCsv for the keys; paths relative to the TOML file)",
)
@with_store
def csv(
    spec: Annotated[
        Path,
        typer.Argument(
            help="a TOML file: an array of nodes tables, an interactions and a triples table, keyed as "
            "NodesCsv, InteractionsCsv, TriplesCsv",
            **ExistingFile,
        ),
    ],
    batch_size: BatchSize = DEFAULT_BATCH_SIZE,
    store: StoreOptions = StoreOptions(),
) -> None:
    """Your own CSV/TSV tables (load_csv), described by a TOML file."""
    from kgrec.loaders import load_csv

    with reported_errors("load csv"):
        tables = csv_tables(spec)
    _load(store, "csv", lambda graph: load_csv(graph, **tables, batch_size=batch_size))


def csv_tables(spec: Path) -> dict[str, Any]:
    """:func:`~kgrec.loaders.load_csv`'s ``nodes``, ``interactions`` and ``triples`` from the
    TOML file ``spec``; a table's ``path`` is relative to the file's folder. A triple table's
    ``relation_map`` value ``""`` skips that relation."""
    from kgrec.loaders import InteractionsCsv, NodesCsv, TriplesCsv

    document = check_keys(spec, "", read_toml(spec), ("nodes", "interactions", "triples"))
    nodes = document.get("nodes", [])
    if not isinstance(nodes, list):
        raise DataFormatError(spec, "nodes must be an array of tables: write [[nodes]]")
    tables: dict[str, Any] = {
        "nodes": [_table(spec, f"nodes[{k}]", t, NodesCsv) for k, t in enumerate(nodes)]
    }
    for key, cls in (("interactions", InteractionsCsv), ("triples", TriplesCsv)):
        if key in document:
            tables[key] = _table(spec, key, document[key], cls)
    return tables


def _table(spec: Path, where: str, table: object, cls: type) -> Any:
    values = dict(check_keys(spec, where, table, field_names(cls)))
    if not isinstance(values.get("path"), str):
        raise DataFormatError(spec, f"{where}.path must be a file name, got {shown(values.get('path'))}")
    values["path"] = spec.parent / values["path"]
    if isinstance(values.get("text"), (str, int)):
        values["text"] = (values["text"],)
    if isinstance(values.get("relation_map"), dict):
        values["relation_map"] = {k: v or None for k, v in values["relation_map"].items()}
    return cls(**values)
