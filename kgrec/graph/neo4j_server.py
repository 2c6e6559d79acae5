"""What kgrec needs of a Neo4j server: a version whose Cypher it speaks, and a connection whose
failures reach the caller as :class:`~kgrec.errors.StoreUnavailableError`."""

from __future__ import annotations

import contextlib
import re
from typing import Iterator

import neo4j.exceptions

from kgrec.errors import KgrecError, StoreUnavailableError, shown

#: The oldest Neo4j whose Cypher kgrec's queries use (``OPTIONAL CALL`` arrived in 5.24,
#: ``CALL () {...}`` scoped subqueries in 5.23).
MIN_SERVER_VERSION = (5, 24)


def parse_server_version(version: str) -> tuple[int, ...]:
    """``"5.26.30"`` -> ``(5, 26, 30)``; calendar versions (``"2025.01.0"``) compare as newer
    than every 5.x. Raises :class:`KgrecError` for a string with no leading version number."""
    match = re.match(r"\d+(?:\.\d+)*", version) if isinstance(version, str) else None
    if match is None:
        raise KgrecError(f"cannot read the Neo4j server version {shown(version)}")
    return tuple(int(part) for part in match.group().split("."))


def check_server_version(version: str) -> tuple[int, ...]:
    """The parsed ``version``; raises :class:`KgrecError` if it is older than
    :data:`MIN_SERVER_VERSION`."""
    parsed = parse_server_version(version)
    if parsed < MIN_SERVER_VERSION:
        oldest = ".".join(map(str, MIN_SERVER_VERSION))
        raise KgrecError(
            f"Neo4j {shown(version)} is too old: kgrec's Cypher needs Neo4j {oldest} or newer"
        )
    return parsed


@contextlib.contextmanager
def reaching(uri: str) -> Iterator[None]:
    """Raise the driver's failures to reach the server at ``uri`` or to log in as
    :class:`StoreUnavailableError` naming ``uri`` (never the credentials)."""
    try:
        yield
    except neo4j.exceptions.IncompleteCommit as exc:
        raise StoreUnavailableError(
            f"lost the connection to Neo4j at {uri} while committing: whether the last batch "
            "was written is unknown. Re-running the load is safe (loads are idempotent)."
        ) from exc
    except (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired, OSError) as exc:
        raise StoreUnavailableError(f"cannot reach Neo4j at {uri}: {exc}") from exc
    except neo4j.exceptions.AuthError as exc:
        raise StoreUnavailableError(
            f"Neo4j at {uri} refused the credentials (user name or password wrong)"
        ) from exc
