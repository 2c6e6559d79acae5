"""What one worker serves: the store, the recommender on it, and the conversations.

The recommender is built at start-up, or on the first request that finds the store reachable
(a Neo4j server that is down at start-up, or during an outage, only delays it). Requests take
turns (the :class:`~kgrec.Recommender` is not thread-safe). A request that finds the store
unreachable fails within about ``neo4j_timeout`` seconds (the driver's timeouts), and the
requests that were waiting for their turn meanwhile fail at once with the same 503 instead of
each trying again: during an outage no request waits much longer than the timeout, and the
first request to arrive after a failure tries the store again, so the service recovers by
itself. A request that gets no turn within :data:`TURN_SECONDS` is a 503 too. Before each
request the store replays what other processes wrote
(:meth:`~kgrec.graph.store.GraphStore.sync`; a no-op on Neo4j).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from kgrec.conversation import Conversation, Turn
from kgrec.errors import InvalidValueError, StoreUnavailableError, shown
from kgrec.graph import GraphStore, MemoryGraphStore
from kgrec.recommender import Recommender
from kgrec.service.settings import Settings

log = logging.getLogger(__name__)

#: The longest a request waits for its turn (seconds) before a 503.
TURN_SECONDS = 60.0


@dataclass
class _Kept:
    """A conversation and how many of its turns were answered."""

    conversation: Conversation
    turns: int = 0


class Serving:
    """The state of one worker of the service configured by ``settings``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._recommender: Recommender | None = None
        self._lock = threading.Lock()
        self._failure: tuple[float, str] | None = None  # (monotonic time, message): last outage seen
        self._conversations: OrderedDict[str, Conversation] = OrderedDict()

    @property
    def loaded(self) -> bool:
        """Whether the recommender is built."""
        return self._recommender is not None

    def start(self) -> None:
        """Build the recommender now; an unreachable store only postpones it to a request
        (other errors, such as a checkpoint that does not fit the store, are raised)."""
        try:
            with self.use():
                pass
        except StoreUnavailableError as exc:
            log.warning("serving without a model until the store is reachable: %s", exc)

    @contextlib.contextmanager
    def use(self) -> Iterator[Recommender]:
        """The recommender, for one request, synced with the store; raises
        :class:`StoreUnavailableError` when the store cannot be reached, was found unreachable
        while this request waited, or the turn does not come within :data:`TURN_SECONDS`."""
        arrived = time.monotonic()
        if not self._lock.acquire(timeout=TURN_SECONDS):
            raise StoreUnavailableError(f"the service is busy: no turn for this request within {TURN_SECONDS:g} s")
        try:
            if self._failure is not None and self._failure[0] > arrived:
                raise StoreUnavailableError(self._failure[1])  # found unreachable while this one waited
            try:
                if self._recommender is None:
                    self._recommender = self._build()
                self._recommender.store.sync()
                yield self._recommender
            except StoreUnavailableError as exc:
                self._failure = (time.monotonic(), str(exc))
                raise
        finally:
            self._lock.release()

    def say(
        self, recommender: Recommender, conversation_id: str, user_id: str | None, text: str, k: int, explain: bool
    ) -> tuple[Turn, int]:
        """One turn of the conversation kept under ``conversation_id`` (a new one for
        ``user_id`` if none is, kept once its first turn is answered; beyond
        ``max_conversations`` the least recently used is dropped): the turn and its number,
        1 for the first. Call it within :meth:`use`."""
        kept = self._conversations.get(conversation_id)
        if kept is None:
            kept = _Kept(Conversation(recommender, user_id))
        elif user_id is not None and user_id != kept.conversation.user_id:
            raise InvalidValueError(
                f"conversation {shown(conversation_id)} is with user {shown(kept.conversation.user_id)}, "
                f"not {shown(user_id)}: omit user_id, or start a conversation under another id"
            )
        turn = kept.conversation.say(text, k=k, explain=explain)
        kept.turns += 1
        self._conversations[conversation_id] = kept
        self._conversations.move_to_end(conversation_id)
        while len(self._conversations) > self.settings.max_conversations:
            dropped, _ = self._conversations.popitem(last=False)
            log.debug("dropped the least recently used conversation %s", shown(dropped))
        return turn, kept.turns

    def close(self) -> None:
        """Close the store (if the recommender was built)."""
        if self._recommender is not None:
            self._recommender.store.close()

    def _build(self) -> Recommender:
        store = self._open_store()
        try:
            recommender = Recommender.from_checkpoint(self.settings.checkpoint, store)
        except BaseException:
            store.close()
            raise
        log.info(
            "serving %s on the %s store: %d users, %d items",
            self.settings.checkpoint,
            self.settings.store,
            recommender.snapshot.num_nodes("user"),
            recommender.snapshot.num_nodes("item"),
        )
        return recommender

    def _open_store(self) -> GraphStore:
        s = self.settings
        if s.store == "memory":
            return MemoryGraphStore.open(s.graph)
        from kgrec.graph.neo4j_store import Neo4jGraphStore  # loads the driver

        auth = (s.neo4j_user, s.neo4j_password.get_secret_value()) if s.neo4j_password else None
        return Neo4jGraphStore.connect(
            s.neo4j_uri,
            auth=auth,
            database=s.neo4j_database,
            namespace=s.neo4j_namespace,
            connection_timeout=s.neo4j_timeout / 2,
            connection_acquisition_timeout=s.neo4j_timeout / 2,
            max_transaction_retry_time=s.neo4j_timeout / 2,
        )
