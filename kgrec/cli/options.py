"""What several commands share: the graph store options, opening the store, and turning a
kgrec error into a one-line message.

No option defaults to a path under the current directory: a path comes from the command line
or its environment variable (``KGREC_GRAPH``, ``KGREC_CHECKPOINT``...).
"""

from __future__ import annotations

import functools
import inspect
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Callable, Iterator, Optional

import typer

from kgrec.errors import KgrecError
from kgrec.graph import GraphStore, MemoryGraphStore
from kgrec.graph.schema import DEFAULT_NAMESPACE

log = logging.getLogger(__name__)


class StoreKind(str, Enum):
    memory = "memory"
    neo4j = "neo4j"


StoreOption = Annotated[
    StoreKind,
    typer.Option(
        "--store", envvar="KGREC_STORE", help="graph store: the embedded one (in --graph) or a Neo4j server"
    ),
]
GraphOption = Annotated[
    Optional[Path],
    typer.Option(
        "--graph",
        envvar="KGREC_GRAPH",
        show_default=False,
        file_okay=False,
        help="--store memory: the embedded store's folder (created if missing)",
    ),
]
UriOption = Annotated[
    Optional[str], typer.Option("--neo4j-uri", envvar=["KGREC_NEO4J_URI", "NEO4J_URI"], show_default=False)
]
UserOption = Annotated[str, typer.Option("--neo4j-user", envvar=["KGREC_NEO4J_USER", "NEO4J_USER"])]
PasswordOption = Annotated[
    Optional[str],
    typer.Option("--neo4j-password", envvar=["KGREC_NEO4J_PASSWORD", "NEO4J_PASSWORD"], show_default=False),
]
DatabaseOption = Annotated[
    Optional[str],
    typer.Option(
        "--neo4j-database",
        envvar=["KGREC_NEO4J_DATABASE", "NEO4J_DATABASE"],
        show_default=False,
        help="Neo4j database (default: the server's)",
    ),
]
NamespaceOption = Annotated[
    str,
    typer.Option(
        "--namespace",
        envvar="KGREC_NEO4J_NAMESPACE",
        help="label prefix of kgrec's Neo4j nodes (KgrecUser, KgrecItem, KgrecEntity); "
        "'' for plain User/Item/Entity",
    ),
]
CheckpointOption = Annotated[
    Path,
    typer.Option(
        "--checkpoint",
        envvar="KGREC_CHECKPOINT",
        exists=True,
        file_okay=False,
        show_default=False,
        help="checkpoint folder written by kgrec train (or Recommender.save)",
    ),
]


@dataclass(frozen=True)
class StoreOptions:
    """The store a command reads or writes, as its options name it."""

    kind: StoreKind = StoreKind.memory
    graph: Path | None = None
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: str | None = None
    neo4j_database: str | None = None
    namespace: str = DEFAULT_NAMESPACE

    def check(self) -> "StoreOptions":
        """Raise :class:`typer.BadParameter` for a store the options do not locate."""
        if self.kind is StoreKind.memory and self.graph is None:
            raise typer.BadParameter(
                "--store memory needs --graph FOLDER (or KGREC_GRAPH)", param_hint="--graph"
            )
        if self.kind is StoreKind.neo4j and not self.neo4j_uri:
            raise typer.BadParameter(
                "--store neo4j needs --neo4j-uri (or KGREC_NEO4J_URI)", param_hint="--neo4j-uri"
            )
        return self

    def open(self) -> GraphStore:
        """The embedded store opened on :attr:`graph` (purely in memory without one: ``kgrec
        demo`` and ``kgrec mcp`` load their data each run), or a connection to Neo4j."""
        if self.kind is StoreKind.memory:
            return MemoryGraphStore() if self.graph is None else MemoryGraphStore.open(self.graph)
        from kgrec.graph.neo4j_store import Neo4jGraphStore  # loads the driver

        auth = (self.neo4j_user, self.neo4j_password) if self.neo4j_password else None
        return Neo4jGraphStore.connect(
            self.neo4j_uri, auth=auth, database=self.neo4j_database, namespace=self.namespace
        )


@contextmanager
def reported_errors(command: str) -> Iterator[None]:
    """Turn a :class:`KgrecError` into ``Error: <message>`` on stderr and exit code 1 (the
    traceback at debug level, with ``--verbose``)."""
    try:
        yield
    except KgrecError as exc:
        log.debug("%s failed", command, exc_info=True)
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from None


@contextmanager
def opened_store(options: StoreOptions) -> Iterator[GraphStore]:
    """The store of ``options``, closed on exit."""
    store = options.open()
    try:
        yield store
    finally:
        store.close()


#: The store options :func:`with_store` adds: parameter -> (annotation, default,
#: :class:`StoreOptions` field).
_STORE_PARAMETERS: dict[str, tuple[Any, Any, str]] = {
    "store_kind": (StoreOption, StoreKind.memory, "kind"),
    "graph": (GraphOption, None, "graph"),
    "neo4j_uri": (UriOption, None, "neo4j_uri"),
    "neo4j_user": (UserOption, "neo4j", "neo4j_user"),
    "neo4j_password": (PasswordOption, None, "neo4j_password"),
    "neo4j_database": (DatabaseOption, None, "neo4j_database"),
    "namespace": (NamespaceOption, DEFAULT_NAMESPACE, "namespace"),
}


def with_store(command: Callable[..., None]) -> Callable[..., None]:
    """``command`` with the store options (``--store``, ``--graph``, ``--neo4j-*``,
    ``--namespace``) added to its command line; it receives them, checked, as ``store:
    StoreOptions``."""
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "store"]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)
        for name, (annotation, default, _) in _STORE_PARAMETERS.items()
    ]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> None:
        fields = {field: kwargs.pop(name) for name, (_, _, field) in _STORE_PARAMETERS.items()}
        return command(store=StoreOptions(**fields).check(), **kwargs)

    wrapper.__signature__ = signature.replace(parameters=own + added)  # what typer reads
    wrapper.__annotations__ = {p.name: p.annotation for p in own + added}
    return wrapper
