"""``kgrec serve``: the REST service (:mod:`kgrec.service`) with settings from the options.

An option left out is not passed: :class:`kgrec.service.Settings` then reads its ``KGREC_*``
environment variable or keeps its default, so the command line, the environment and a
container's configuration all mean the same.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from kgrec.cli.options import StoreKind

EXAMPLES = (
    "Examples: kgrec serve --graph stores/ml100k --checkpoint runs/ml100k --api-keys $KEY  |  "
    "kgrec serve --store neo4j --neo4j-uri bolt://localhost:7687 --checkpoint runs/ml100k "
    "--workers 2 --port 8080  |  "
    "then: curl localhost:8000/health; open http://localhost:8000/docs"
)


def _option(help: str, *names: str, **extra) -> typer.models.OptionInfo:
    return typer.Option(*names, show_default=False, help=help, **extra)


def serve(
    store: Annotated[Optional[StoreKind], _option("graph store (KGREC_STORE)  [default: memory]")] = None,
    graph: Annotated[
        Optional[Path], _option("--store memory: the embedded store's folder (KGREC_GRAPH)", file_okay=False)
    ] = None,
    checkpoint: Annotated[
        Optional[Path],
        _option("checkpoint folder written by kgrec train (KGREC_CHECKPOINT)", file_okay=False),
    ] = None,
    neo4j_uri: Annotated[Optional[str], _option("KGREC_NEO4J_URI")] = None,
    neo4j_user: Annotated[Optional[str], _option("KGREC_NEO4J_USER  [default: neo4j]")] = None,
    neo4j_password: Annotated[Optional[str], _option("KGREC_NEO4J_PASSWORD")] = None,
    neo4j_database: Annotated[Optional[str], _option("KGREC_NEO4J_DATABASE  [default: the server's]")] = None,
    neo4j_namespace: Annotated[
        Optional[str],
        _option(
            "label prefix of kgrec's Neo4j nodes (KGREC_NEO4J_NAMESPACE)  [default: Kgrec]", "--namespace"
        ),
    ] = None,
    neo4j_timeout: Annotated[
        Optional[float],
        _option(
            "seconds before a Neo4j call that cannot reach the server fails with 503 "
            "(KGREC_NEO4J_TIMEOUT)  [default: 5]"
        ),
    ] = None,
    api_keys: Annotated[
        Optional[str],
        _option("comma-separated keys accepted in the X-API-Key header; writes need one (KGREC_API_KEYS)"),
    ] = None,
    reads_keyed: Annotated[
        Optional[bool],
        _option(
            "reads need a key too (KGREC_READS_KEYED)  [default: open reads]", "--reads-keyed/--open-reads"
        ),
    ] = None,
    host: Annotated[Optional[str], _option("KGREC_HOST  [default: 127.0.0.1]")] = None,
    port: Annotated[Optional[int], _option("KGREC_PORT  [default: 8000]", min=1, max=65535)] = None,
    workers: Annotated[
        Optional[int], _option("worker processes (KGREC_WORKERS)  [default: 1]", min=1)
    ] = None,
    max_conversations: Annotated[
        Optional[int],
        _option("conversations kept per worker (KGREC_MAX_CONVERSATIONS)  [default: 1000]", min=1),
    ] = None,
) -> None:
    r"""Serve recommendations, explanations, cold-start users and items, and feedback over HTTP
    (FastAPI + uvicorn; OpenAPI docs at /docs, /health reports the store). Needs kgrec's serve
    extra: pip install 'kgrec\[serve]'."""
    given = {name: value for name, value in locals().items() if value is not None}
    try:
        from kgrec.service import Settings, run
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in {"fastapi", "uvicorn", "pydantic_settings"}:
            raise
        typer.echo("Error: kgrec serve needs the serve extra: pip install 'kgrec[serve]'", err=True)
        raise typer.Exit(1) from None
    from pydantic import ValidationError

    given = {k: v.value if isinstance(v, Enum) else v for k, v in given.items()}
    try:
        settings = Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        typer.echo(f"Error: invalid settings: {problems}", err=True)
        raise typer.Exit(2) from None
    run(settings)
