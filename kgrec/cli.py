"""The ``kgrec`` command line: ``kgrec demo`` runs the main job end to end."""

from __future__ import annotations

import logging
import os
import time
from enum import Enum
from pathlib import Path

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

DATA = Path(os.environ.get("KGREC_DATA", "../shared/data"))


class StoreKind(str, Enum):
    memory = "memory"
    neo4j = "neo4j"


def _open_store(kind: StoreKind, uri: str | None, user: str, password: str | None):
    from kgrec import MemoryGraphStore, Neo4jGraphStore

    if kind is StoreKind.memory:
        return MemoryGraphStore()
    if not uri:
        raise typer.BadParameter("--store neo4j needs --neo4j-uri (or NEO4J_URI)")
    store = Neo4jGraphStore.connect(uri, auth=(user, password) if password else None)
    store.clear()
    return store


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="debug logging")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@app.command()
def demo(
    data_dir: Path = typer.Option(DATA, help="folder with movielens-100k/ and movielens-dbpedia-kg/"),
    split_file: Path = typer.Option(None, help="benchmark split (default: DATA/../benchmarks/ml100k/split.tsv)"),
    store: StoreKind = typer.Option(StoreKind.memory, help="graph store: embedded or a Neo4j server"),
    neo4j_uri: str = typer.Option(None, envvar="NEO4J_URI"),
    neo4j_user: str = typer.Option("neo4j", envvar="NEO4J_USER"),
    neo4j_password: str = typer.Option(None, envvar="NEO4J_PASSWORD"),
    epochs: int = typer.Option(30, min=1, help="training epochs (early stopping on valid NDCG@20)"),
    user: str = typer.Option("1", help="the user to recommend for"),
    k: int = typer.Option(10, min=1),
    out: Path = typer.Option(Path("runs/demo"), help="checkpoint, curves and explanation HTML"),
) -> None:
    """Load MovieLens-100k with its DBpedia KG, train kgrec, print explained top-k items."""
    from kgrec import Recommender
    from kgrec.loaders import load_movielens100k
    from kgrec.models import KGRecModel, training_graph
    from kgrec.text import EmbeddingCache, TextEncoder, node_text_vectors
    from kgrec.train import KGREC_TRAINING, Trainer, TrainConfig, seed_everything

    split_file = split_file or data_dir.parent / "benchmarks" / "ml100k" / "split.tsv"
    graph_store = _open_store(store, neo4j_uri, neo4j_user, neo4j_password)
    started = time.perf_counter()
    report = load_movielens100k(
        graph_store,
        data_dir / "movielens-100k",
        kg_dir=data_dir / "movielens-dbpedia-kg",
        split_file=split_file,
    )
    stats = graph_store.stats()
    typer.echo(f"\nLoaded into the {store.value} store in {time.perf_counter() - started:.1f}s: {report}")
    typer.echo("nodes:         " + ", ".join(f"{k} {v:,}" for k, v in stats.nodes.items()))
    typer.echo("relationships: " + ", ".join(f"{k} {v:,}" for k, v in stats.relationships.items()))

    snapshot = graph_store.snapshot()
    text = node_text_vectors(snapshot, EmbeddingCache(TextEncoder(), Path.home() / ".cache" / "kgrec"))
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

    recommender = Recommender(model, graph_store, snapshot)
    recommender.save(out / "checkpoint", text_model="default")
    [profile] = graph_store.get_nodes("User", [user])
    typer.echo(f"\nTop {k} for user {user} ({profile.text}):")
    recs = recommender.recommend(user, k=k)
    for r in recs:
        typer.echo(f"{r.rank:>3}. {r.name}  (score {r.score:.3f}, logit {r.logit:.2f})")
        for p in r.explanation.paths:
            typer.echo(f"       [{p.weight:+.4f}] {p.sentence}")
    if recs and recs[0].explanation.paths:
        html = recs[0].explanation.save_html(out / "explanation.html")
        typer.echo(f"\nExplanation graph of the first item: {html}")
        typer.echo("The same paths in Neo4j Browser:\n" + recs[0].explanation.browser_cypher())
    graph_store.close()


if __name__ == "__main__":
    app()
