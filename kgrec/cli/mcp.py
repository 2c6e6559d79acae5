"""``kgrec mcp``: serve a trained checkpoint to language-model agents over the Model Context
Protocol."""

from __future__ import annotations

import logging
from enum import Enum
from pathlib import Path

import typer

from kgrec.cli.demo import DATA_ENV, demo_inputs
from kgrec.cli.options import StoreKind, StoreOptions, opened_store, reported_errors
from kgrec.graph.schema import DEFAULT_NAMESPACE

log = logging.getLogger(__name__)


class McpTransport(str, Enum):
    stdio = "stdio"
    streamable_http = "streamable-http"


def mcp_command(
    checkpoint: Path = typer.Argument(
        ...,
        exists=True,
        file_okay=False,
        help="checkpoint folder saved by Recommender.save (kgrec demo: OUT/checkpoint)",
    ),
    store: StoreKind = typer.Option(
        StoreKind.memory,
        help="memory: load MovieLens-100k with its DBpedia KG and split (the demo's data, see --data-dir) "
        "into the embedded store; neo4j: serve the graph already in the database (loaded by "
        "kgrec demo --store neo4j), nothing is loaded",
    ),
    data_dir: Path = typer.Option(
        None,
        envvar=DATA_ENV,
        show_default=False,
        help="--store memory: folder with movielens-100k/ and movielens-dbpedia-kg/ (default as for demo)",
    ),
    split_file: Path = typer.Option(
        None,
        show_default=False,
        help="--store memory: the split the checkpoint was trained on (default as for demo)",
    ),
    neo4j_uri: str = typer.Option(None, envvar="NEO4J_URI"),
    neo4j_user: str = typer.Option("neo4j", envvar="NEO4J_USER"),
    neo4j_password: str = typer.Option(None, envvar="NEO4J_PASSWORD"),
    neo4j_database: str = typer.Option(
        None, envvar="NEO4J_DATABASE", show_default=False, help="Neo4j database (default: the server's)"
    ),
    namespace: str = typer.Option(DEFAULT_NAMESPACE, help="label prefix of kgrec's Neo4j nodes"),
    transport: McpTransport = typer.Option(
        McpTransport.stdio,
        help="stdio (for an agent that starts kgrec) or streamable-http (at http://HOST:PORT/mcp)",
    ),
    host: str = typer.Option("127.0.0.1", help="streamable-http only"),
    port: int = typer.Option(8000, min=1, max=65535, help="streamable-http only"),
) -> None:
    """Serve a trained checkpoint to language-model agents over the Model Context Protocol.

    Tools: recommend, explain, search_entities, similar_items, conversation_turn. Needs the mcp
    package (kgrec's mcp extra). Logs go to stderr: over stdio, stdout is the protocol's.
    """
    if store is StoreKind.neo4j and not neo4j_uri:
        raise typer.BadParameter("--store neo4j needs --neo4j-uri (or NEO4J_URI)", param_hint="--neo4j-uri")
    inputs = demo_inputs(data_dir, split_file) if store is StoreKind.memory else None
    try:
        from kgrec.mcp_server import build_server
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("mcp"):
            raise
        typer.echo("Error: kgrec mcp needs the mcp extra: pip install 'kgrec[mcp]'", err=True)
        raise typer.Exit(1) from None
    from kgrec import Recommender
    from kgrec.loaders import load_movielens100k

    options = StoreOptions(store, None, neo4j_uri, neo4j_user, neo4j_password, neo4j_database, namespace)
    with reported_errors("mcp"), opened_store(options) as graph_store:
        if inputs is not None:
            load_movielens100k(graph_store, inputs.movielens, kg_dir=inputs.kg, split_file=inputs.split)
        server = build_server(Recommender.from_checkpoint(checkpoint, graph_store))
        log.info("serving %s over %s", checkpoint, transport.value)
        if transport is McpTransport.stdio:
            server.run("stdio")
        else:
            server.run("streamable-http", host=host, port=port)
