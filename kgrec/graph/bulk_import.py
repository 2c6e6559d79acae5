"""First loads at bulk speed: a graph imported offline by ``neo4j-admin database import full``.

The importer writes a database's store files directly, tens of times faster than transactions,
but only into a database that does not exist yet and while no server uses it. :func:`bulk_import`
writes the graph of a loaded :class:`~kgrec.graph.memory.MemoryGraphStore` as CSV files
(:mod:`kgrec.graph.import_files`), checks the target, and runs the importer. Then start the
server and open a :class:`~kgrec.graph.neo4j_store.Neo4jGraphStore` on it: it creates the
constraints and indexes as after any load (:func:`await_schema` waits until they are online).
Later, incremental loads go through the store's upserts (transactions) as always.

The target is refused, nothing written, while a server holds its lock files, and when the
database already exists (its content cannot be read offline, so an existing database counts as
data) unless ``overwrite=True``: that replaces it entirely.

``admin`` is the command that runs neo4j-admin: ``("neo4j-admin",)`` for an installed server,
or ``("bash", "docker/neo4j.sh", "admin")`` for the server run from Maven jars (no tarball).
``NEO4J_HOME`` is set to ``home`` for it.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from kgrec.errors import InvalidValueError, KgrecError, shown
from kgrec.graph import cypher
from kgrec.graph.batches import gc_paused
from kgrec.graph.import_files import write_import_files
from kgrec.graph.memory import MemoryGraphStore
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.graph.schema import DEFAULT_NAMESPACE, Namespace, NodeLabel

log = logging.getLogger(__name__)

#: Neo4j's rule for database names (3 to 63 characters).
_DATABASE = re.compile(r"[A-Za-z][A-Za-z0-9.\-]{2,62}")

#: Lines of the importer's output quoted in an error.
_ERROR_LINES = 15

#: The importer's off-heap budget unless ``options`` set one. With its default (90% of free
#: memory) it links all relationship types in one pass over caches sized to that budget, which
#: cost more than the passes a smaller budget takes. On 2 cores with 23 GB, a generated graph of
#: 10 million relationships took 40 s with 1G, 34 s with 512M, 62 s with 2G and 71 s with the
#: default (one run each); one of 2 million, 8.3 s with 1G and 9.4 s with the default (the
#: importer's own totals, medians of 4; 512M was slower there). A graph far larger may want
#: more: pass ``--max-off-heap-memory``.
DEFAULT_OFF_HEAP = "1G"


@dataclass(frozen=True, slots=True)
class BulkImportReport:
    """What :func:`bulk_import` wrote: node counts per label, relationships (interactions and
    triples), the seconds spent writing the CSV files and running the importer (its JVM start
    included), and the database's store folder."""

    nodes: dict[str, int]
    relationships: int
    files_seconds: float
    import_seconds: float
    database_dir: Path

    @property
    def seconds(self) -> float:
        """Files and importer together."""
        return self.files_seconds + self.import_seconds


def database_dir(home: str | Path, database: str = "neo4j") -> Path:
    """The store folder of ``database`` under a Neo4j home in the default layout
    (``<home>/data/databases/<database>``)."""
    return Path(home) / "data" / "databases" / _database_name(database)


def bulk_import(
    store: MemoryGraphStore,
    home: str | Path,
    *,
    admin: Sequence[str] = ("neo4j-admin",),
    database: str = "neo4j",
    namespace: str = DEFAULT_NAMESPACE,
    overwrite: bool = False,
    work_dir: str | Path | None = None,
    options: Sequence[str] = (),
) -> BulkImportReport:
    """Import ``store``'s graph into ``database`` of the stopped Neo4j whose home (data in
    ``<home>/data``) is ``home``, labelled in ``namespace``.

    Raises :class:`KgrecError`, writing nothing, while a server uses ``home`` or when the
    database exists (unless ``overwrite``); and with the importer's message when it fails. The
    CSV files go to a temporary folder in ``work_dir`` (default: the system's), removed after.
    ``options`` are more importer options (``--threads=2``, ``--max-off-heap-memory=4G``; the
    budget is :data:`DEFAULT_OFF_HEAP` unless given).
    Node embeddings and vector indexes are not imported: write them after the import.
    """
    target = database_dir(home, database)
    _refuse_unless_offline(Path(home), target)
    if _has_store(target) and not overwrite:
        raise KgrecError(
            f"bulk import refused: database {database!r} already exists in {target}, and an "
            "import replaces a database entirely. Pass overwrite=True only if it holds nothing "
            "to keep; load into an existing database with the store's upserts instead."
        )
    started = time.perf_counter()
    # millions of records, none in a cycle: no collection over them while they are written
    with gc_paused(), tempfile.TemporaryDirectory(prefix="kgrec-import-", dir=work_dir) as folder:
        nodes, interactions, triples = store.records()
        files = write_import_files(nodes, interactions, triples, folder, Namespace(namespace))
        written = time.perf_counter()
        command = [
            *admin,
            "database",
            "import",
            "full",
            *files.arguments(),
            f"--report-file={Path(folder) / 'import.report'}",
            *(["--overwrite-destination=true"] if overwrite else []),
            *_with_off_heap(options),
            "--verbose",
            database,
        ]
        _run(command, Path(home), target)
    done = time.perf_counter()
    report = BulkImportReport(
        nodes={label.value: len(nodes[label]) for label in NodeLabel},
        relationships=files.relationship_count,
        files_seconds=written - started,
        import_seconds=done - written,
        database_dir=target,
    )
    log.info(
        "bulk import into %s: %d nodes, %d relationships in %.1f s",
        target,
        files.node_count,
        report.relationships,
        report.seconds,
    )
    return report


def await_schema(store: Neo4jGraphStore) -> None:
    """Apply the store's schema (constraints, indexes) and wait (up to 300 s) until every index
    is online: after a bulk import they are built over the whole graph at once."""
    store.apply_schema()
    store.driver.execute_query(cypher.AWAIT_INDEXES, database_=store.database)


def _database_name(database: object) -> str:
    if not isinstance(database, str) or not _DATABASE.fullmatch(database):
        raise InvalidValueError(
            f"invalid database name {shown(database)}: 3-63 letters, digits, dots and dashes, "
            "starting with a letter"
        )
    return database


def _with_off_heap(options: Sequence[str]) -> list[str]:
    """``options``, with ``--max-off-heap-memory=`` :data:`DEFAULT_OFF_HEAP` unless they set it."""
    given = any(o.startswith("--max-off-heap-memory") for o in options)
    return [*options] if given else [*options, f"--max-off-heap-memory={DEFAULT_OFF_HEAP}"]


def _has_store(target: Path) -> bool:
    """True when ``target`` holds anything but the lock file a stopped server leaves."""
    return target.is_dir() and any(p.name != "database_lock" for p in target.iterdir())


def _refuse_unless_offline(home: Path, target: Path) -> None:
    """Raise :class:`KgrecError` when a process holds the DBMS's or the database's lock file
    (a running server, or another import)."""
    for lock in (home / "data" / "databases" / "store_lock", target / "database_lock"):
        if _locked(lock):
            raise KgrecError(
                f"bulk import refused: Neo4j is running on {home} ({lock} is locked). Stop the "
                "server first: the importer writes the store files offline."
            )


def _locked(path: Path) -> bool:
    """True when another process holds a lock on ``path`` (Neo4j locks with ``fcntl``)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EAGAIN):
            return True
        raise
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _run(command: list[str], home: Path, target: Path) -> None:
    """Run the importer with ``NEO4J_HOME=home``; raise :class:`KgrecError` with the end of
    its output (stack frames left out) when it fails."""
    log.debug("running %s", command)
    try:
        done = subprocess.run(
            command,
            env={**os.environ, "NEO4J_HOME": str(home)},
            capture_output=True,
            text=True,
        )
    except FileNotFoundError as exc:
        raise KgrecError(
            f"cannot run neo4j-admin as {command[0]!r}: {exc.strerror}. Pass admin= the command "
            "(e.g. ('bash', 'docker/neo4j.sh', 'admin') for the server run from Maven jars)"
        ) from None
    output = done.stdout + done.stderr
    log.debug("neo4j-admin output:\n%s", output)
    if done.returncode != 0:
        lines = [ln for ln in output.splitlines() if ln.strip() and not ln.startswith("\tat ")]
        raise KgrecError(
            f"neo4j-admin database import failed (exit {done.returncode}); it may have left "
            f"store files in {target} (retry with overwrite=True):\n"
            + "\n".join(lines[-_ERROR_LINES:])
        )
