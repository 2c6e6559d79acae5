"""``kgrec demo``: load MovieLens-100k with its DBpedia KG, train, print explained top-k items.

The one command with a default data folder: ``shared/data`` beside a source checkout, so that
the README's two-command setup runs as it is.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import typer

from kgrec.errors import KgrecError
from kgrec.cli.options import StoreKind, StoreOptions, opened_store, reported_errors
from kgrec.cli.output import print_recommendations
from kgrec.graph import GraphStore
from kgrec.graph.schema import DEFAULT_NAMESPACE
from kgrec.loaders._io import find_file

log = logging.getLogger(__name__)

DATA_ENV = "KGREC_DATA"
#: The files ``load_movielens100k`` reads from the ml-100k folder when given a split file, and
#: from the DBpedia KG folder (found there or one folder below, as the loader finds them).
MOVIELENS_FILES = ("u.genre", "u.user", "u.item")
KG_FILES = ("ml100k_item2dbpedia.tsv", "entities.tsv", "triples.tsv")


@dataclass(frozen=True)
class DemoInputs:
    """The demo's inputs, each checked to exist."""

    movielens: Path
    kg: Path
    split: Path


def checkout_root() -> Path | None:
    """The source checkout kgrec runs from (this package's folder sits next to
    pyproject.toml), else None: an installed kgrec has no default folders."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() else None


def checkout_data_dir() -> Path | None:
    """``shared/data`` beside the source checkout kgrec runs from, else None."""
    root = checkout_root()
    return None if root is None else root.parent / "shared" / "data"


def demo_out_dir() -> Path:
    """``runs/demo`` in the source checkout kgrec runs from; else :class:`typer.BadParameter`."""
    root = checkout_root()
    if root is None:
        raise typer.BadParameter("no output folder: give it with --out", param_hint="--out")
    return root / "runs" / "demo"


def demo_inputs(data_dir: Path | None, split_file: Path | None) -> DemoInputs:
    """Check that every input of the demo exists; a missing one raises :class:`typer.BadParameter`
    naming it and the option (or environment variable) that sets it."""
    data_dir = data_dir or checkout_data_dir()
    where = f"give it with --data-dir or the {DATA_ENV} environment variable"
    if data_dir is None:
        raise typer.BadParameter(f"no data folder: {where}", param_hint="--data-dir")
    if not data_dir.is_dir():
        raise typer.BadParameter(f"data folder {data_dir} not found: {where}", param_hint="--data-dir")
    inputs = DemoInputs(
        movielens=data_dir / "movielens-100k",
        kg=data_dir / "movielens-dbpedia-kg",
        split=split_file or data_dir.parent / "benchmarks" / "ml100k" / "split.tsv",
    )
    needed = [inputs.movielens / name for name in MOVIELENS_FILES] + [inputs.kg]
    missing = [path for path in needed if not path.exists()]
    if missing:
        raise typer.BadParameter(f"{missing[0]} not found in the data folder", param_hint="--data-dir")
    try:
        for name in KG_FILES:
            find_file(inputs.kg, name)
    except KgrecError as exc:
        raise typer.BadParameter(str(exc), param_hint="--data-dir") from None
    if not inputs.split.is_file():
        raise typer.BadParameter(f"split file {inputs.split} not found", param_hint="--split-file")
    return inputs


def demo(
    data_dir: Path = typer.Option(
        None,
        envvar=DATA_ENV,
        show_default=False,
        help="folder with movielens-100k/ and movielens-dbpedia-kg/ (default: when kgrec runs "
        "from a source checkout, shared/data beside the repository; else required)",
    ),
    split_file: Path = typer.Option(
        None,
        show_default=False,
        help="benchmark split (default: benchmarks/ml100k/split.tsv beside the data folder)",
    ),
    store: StoreKind = typer.Option(StoreKind.memory, help="graph store: embedded or a Neo4j server"),
    neo4j_uri: str = typer.Option(None, envvar="NEO4J_URI"),
    neo4j_user: str = typer.Option("neo4j", envvar="NEO4J_USER"),
    neo4j_password: str = typer.Option(None, envvar="NEO4J_PASSWORD"),
    neo4j_database: str = typer.Option(
        None, envvar="NEO4J_DATABASE", show_default=False, help="Neo4j database (default: the server's)"
    ),
    namespace: str = typer.Option(
        DEFAULT_NAMESPACE,
        help="label prefix of kgrec's Neo4j nodes (KgrecUser, KgrecItem, KgrecEntity), so kgrec "
        "shares a database with other data; '' for plain User/Item/Entity",
    ),
    replace: bool = typer.Option(
        False,
        "--replace",
        help="delete every node of the kgrec namespace NS (--namespace) in database DB "
        "(--neo4j-database) before loading (other data is never touched)",
    ),
    epochs: int = typer.Option(30, min=1, help="training epochs (early stopping on valid NDCG@20)"),
    user: str = typer.Option("1", help="the user to recommend for"),
    k: int = typer.Option(10, min=1),
    out: Path = typer.Option(
        None,
        show_default=False,
        help="folder for the checkpoint, curves and explanation HTML (default: when kgrec runs "
        "from a source checkout, runs/demo in it; else required)",
    ),
) -> None:
    """Load MovieLens-100k with its DBpedia KG, train kgrec, print explained top-k items.

    Checks every input before opening the store. Loads upsert; only --replace deletes.
    """
    if store is StoreKind.neo4j and not neo4j_uri:
        raise typer.BadParameter("--store neo4j needs --neo4j-uri (or NEO4J_URI)", param_hint="--neo4j-uri")
    if replace and store is not StoreKind.neo4j:
        raise typer.BadParameter("--replace applies to --store neo4j only", param_hint="--replace")
    inputs = demo_inputs(data_dir, split_file)
    out = out or demo_out_dir()
    options = StoreOptions(store, None, neo4j_uri, neo4j_user, neo4j_password, neo4j_database, namespace)
    with reported_errors("demo"), opened_store(options) as graph_store:
        if replace:
            where = f"database {neo4j_database}" if neo4j_database else "the default database"
            log.info("--replace: deleting the nodes of namespace %r in %s", namespace, where)
            graph_store.clear()
        _run_demo(graph_store, store, inputs, epochs, user, k, out)


#: The demo's cold-start user and the films they liked (Star Wars, The Empire Strikes Back,
#: Return of the Jedi in MovieLens-100k).
NEW_USER = "demo-new-user"
NEW_USER_LIKES = ["50", "172", "181"]
#: The demo conversation's three turns.
CONVERSATION = ("a 90s thriller with Kevin Spacey", "no crime films", "more like the first one")


def _run_demo(
    graph_store: GraphStore, kind: StoreKind, inputs: DemoInputs, epochs: int, user: str, k: int, out: Path
) -> None:
    from kgrec import Recommender
    from kgrec.explain.render import recommendations_html
    from kgrec.loaders import load_movielens100k
    from kgrec.models import KGRecModel, training_graph
    from kgrec.text import EmbeddingCache, TextEncoder, node_text_vectors
    from kgrec.train import KGREC_TRAINING, Trainer, TrainConfig, seed_everything

    started = time.perf_counter()
    report = load_movielens100k(graph_store, inputs.movielens, kg_dir=inputs.kg, split_file=inputs.split)
    stats = graph_store.stats()
    typer.echo(f"\nLoaded into the {kind.value} store in {time.perf_counter() - started:.1f}s: {report}")
    typer.echo("nodes:         " + ", ".join(f"{k} {v:,}" for k, v in stats.nodes.items()))
    typer.echo("relationships: " + ", ".join(f"{k} {v:,}" for k, v in stats.relationships.items()))
    [profile] = graph_store.get_nodes("User", [user])  # an unknown user fails before training

    snapshot = graph_store.snapshot()
    encoder = TextEncoder()
    text = node_text_vectors(snapshot, EmbeddingCache(encoder, Path.home() / ".cache" / "kgrec"))
    seed_everything(2020)
    graph = training_graph(snapshot, text)
    model = KGRecModel(graph)
    config = TrainConfig(**KGREC_TRAINING, epochs=epochs, patience=10)
    result = Trainer(model, snapshot, config).fit(out)
    typer.echo(
        f"\nTrained {type(model).__name__}: best epoch {result.best_epoch}, "
        f"valid NDCG@20 {result.best_valid.get('ndcg@20', float('nan')):.4f}, "
        f"{result.seconds_per_epoch:.1f}s/epoch; curves in {out / 'curves.png'}"
    )

    recommender = Recommender(model, graph_store, snapshot, text_encoder=encoder)
    calibration = recommender.calibrate()  # the benchmark split always has valid likes
    typer.echo(
        f"Scores calibrated on the valid split ({calibration.method}, "
        f"{calibration.fitted_on['positives']:,} valid likes of {calibration.fitted_on['users']:,} users)"
    )
    recommender.save(out / "checkpoint", text_model="default")  # the trained graph (kgrec mcp loads it)
    typer.echo(f"\nTop {k} for user {user} ({profile.text}):")
    recs = recommender.recommend(user, k=k)
    print_recommendations(recs)

    if recs and recs[0].explanation.paths:
        page = out / "recommendations.html"
        page.write_text(recommendations_html(recs), encoding="utf-8")
        typer.echo(f"\nWhy these {len(recs)}, drawn: {page}")
        typer.echo("The first item's paths in Neo4j Browser:\n" + recs[0].explanation.browser_cypher())

    # Cold start: a user the model never saw, from three liked films, with no retraining (on
    # Neo4j a rerun finds them stored by the last run, and so trained on).
    if NEW_USER not in snapshot.node_ids["user"]:
        recommender.add_user(NEW_USER, liked=NEW_USER_LIKES)
    liked = ", ".join(r.name or r.id for r in graph_store.get_nodes("Item", NEW_USER_LIKES))
    typer.echo(f"\nTop {k} for a new user {NEW_USER!r} who liked {liked}:")
    print_recommendations(recommender.recommend(NEW_USER, k=k))

    from kgrec.conversation import Conversation

    conversation = Conversation(recommender, user_id=user)
    typer.echo(f"\nA conversation with user {user}:")
    for text in CONVERSATION:
        turn = conversation.say(text, k=5)
        typer.echo(f"\n> {text}\n  {turn.reply}")
        for r in turn.recommendations:
            typer.echo(f"{r.rank:>3}. {r.name}: {'; '.join(r.reasons) or 'for you'}")
            if r.explanation is not None and r.explanation.paths:
                typer.echo(f"       {r.explanation.paths[0].sentence}")
