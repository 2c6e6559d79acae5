"""Online feedback: likes, dislikes, ratings and watches that change a user's next
recommendations at once, without retraining.

**Storage.** An event is the user's interaction with the item (``INTERACTED``, one per pair)
carrying ``kind``, ``source``, ``timestamp`` (seconds), ``rating`` (a rating's value) and
``weight`` (a watch's fraction, else the event's :meth:`FeedbackPolicy.polarity`: +1, 0 or -1);
the latest event on a pair replaces the earlier one. A pair without an interaction gets the
split ``feedback``, which no training or evaluation split reads; on a pair that has one (a
rated film liked again) the event keeps that split and, unless it is a rating, that rating:
the evaluation splits and the train interactions a checkpoint's fingerprint covers stay as
they were. Retraining (``kgrec train --resume``) can learn from the ``feedback`` split: its
positives are the events with a positive :meth:`FeedbackPolicy.polarity`.

**Serving.** The store is the state: each :meth:`OnlineFeedback.adjust` reads the users'
feedback in one store call (:meth:`~kgrec.graph.store.GraphStore.user_interactions`), so every
process serving the same store agrees (an embedded store opened on a folder, after its
``sync()``). For a user with ``T`` train interactions, positive feedback items ``P`` and
negative ones ``N``:

.. math::
    g'_{uj} = g_{uj} + \\alpha \\frac{|P|}{|P| + T} f_j(P)
              - \\beta \\max(0, \\max_{d \\in N} \\cos(v_j, v_d))

``g_u`` ``[I]``: the model's logits; ``f(P)`` ``[I]``: the cold-start fold-in logits of a
person who liked ``P`` (:meth:`kgrec.cold.ColdStart.fold_in_logits`, the model re-run with that
person: 0.3 s on ml100k with one thread on an idle machine); ``v``: the model's final item
embeddings. The fold-in weighs as much as its share of the user's known likes: a plain
``alpha f(P)`` lowered ml100k valid NDCG@10 at every alpha tried (70 users: 0.0827 without,
0.0789 at alpha 0.125, 0.0584 at 1), the shared weight did not. Every item with feedback is
masked like a seen one. The added term is cached per user, keyed on the feedback read, and
recomputed only when that changed. ``alpha`` and ``beta``: see :class:`FeedbackPolicy`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from kgrec.cold import ColdStart, Served
from kgrec.errors import InvalidValueError, UnknownIdError, shown
from kgrec.graph.records import Interaction
from kgrec.graph.schema import FEEDBACK_KINDS
from kgrec.graph.store import GraphStore

log = logging.getLogger(__name__)

#: The event kinds :meth:`kgrec.Recommender.feedback` takes.
KINDS = FEEDBACK_KINDS

#: The split of an event on a pair that had no interaction.
FEEDBACK_SPLIT = "feedback"


@dataclass(frozen=True)
class FeedbackEvent:
    """One feedback event: ``user_id`` did ``kind`` (one of :data:`KINDS`) on ``item_id`` at
    ``timestamp`` (seconds since the epoch), sent by ``source``. ``value``: a rating's value
    (required), a watch's fraction watched in [0, 1] (default 1.0), ``None`` for a like or a
    dislike."""

    user_id: str
    item_id: str
    kind: str
    value: float | None
    timestamp: int
    source: str

    @classmethod
    def checked(
        cls,
        user_id: object,
        item_id: object,
        kind: object,
        value: object = None,
        timestamp: object = None,
        source: object = "api",
    ) -> "FeedbackEvent":
        """The event, its types and values checked (``timestamp=None``: now); raises
        :class:`InvalidValueError` naming the bad value. Ids are checked against a model by
        :meth:`OnlineFeedback.record`, a rating's range by :meth:`FeedbackPolicy.polarity`."""
        for what, given in (("user_id", user_id), ("item_id", item_id), ("source", source)):
            if not isinstance(given, str) or not given:
                raise InvalidValueError(f"{what} must be a non-empty string, got {shown(given)}")
        if kind not in KINDS:
            raise InvalidValueError(f"feedback kind must be one of {KINDS}, got {shown(kind)}")
        if kind in ("like", "dislike") and value is not None:
            raise InvalidValueError(f"a {kind} takes no value, got {shown(value)}")
        if kind == "watch" and value is None:
            value = 1.0
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InvalidValueError(f"the value of a {kind} must be a finite number, got {shown(value)}")
            if kind == "watch" and not 0 <= value <= 1:
                raise InvalidValueError(f"a watch's value is the fraction watched, in [0, 1], got {shown(value)}")
            value = float(value)
        elif kind == "rating":
            raise InvalidValueError("a rating needs a value, got None")
        if timestamp is None:
            timestamp = int(time.time())
        if isinstance(timestamp, bool) or not isinstance(timestamp, int) or not 0 <= timestamp < 2**63:
            raise InvalidValueError(f"timestamp must be an int of seconds >= 0, got {shown(timestamp)}")
        return cls(user_id, item_id, kind, value, timestamp, source)

    @classmethod
    def of(cls, interaction: Interaction) -> "FeedbackEvent":
        """The event a stored interaction with a ``kind`` holds."""
        value = {"rating": interaction.rating, "watch": interaction.weight}.get(interaction.kind)
        return cls(
            interaction.user,
            interaction.item,
            interaction.kind,
            value,
            interaction.timestamp if interaction.timestamp is not None else 0,
            interaction.source or "",
        )


@dataclass(frozen=True)
class FeedbackPolicy:
    """How events move a user's logits (see the module's formula).

    ``alpha``: weight of the fold-in logits of the positive items; ``beta``: weight of the
    similarity to the negative ones (both >= 0). The defaults are ``benchmarks/feedback.py``'s
    choice on ml100k's valid split (alpha from 0 to 8, beta from 0 to 4; beta with the users'
    low ratings replayed as dislikes, ``--dislikes``). A rating in ``rating_scale`` is positive from ``like_at`` up,
    negative up to ``dislike_at``, else neutral (masked only); a watch is positive from
    ``watch_at`` of the item watched, else neutral.
    """

    alpha: float = 0.25
    beta: float = 1.0
    rating_scale: tuple[float, float] = (1.0, 5.0)
    like_at: float = 4.0
    dislike_at: float = 2.0
    watch_at: float = 0.5

    def __post_init__(self) -> None:
        for name in ("alpha", "beta"):
            given = getattr(self, name)
            if isinstance(given, bool) or not isinstance(given, (int, float)) or not 0 <= given < math.inf:
                raise InvalidValueError(f"{name} must be a finite number >= 0, got {shown(given)}")
        low, high = self.rating_scale
        if not low <= self.dislike_at < self.like_at <= high:
            raise InvalidValueError(
                f"need rating_scale[0] <= dislike_at < like_at <= rating_scale[1], got "
                f"{self.rating_scale}, {self.dislike_at}, {self.like_at}"
            )

    def polarity(self, event: FeedbackEvent) -> int:
        """+1 (the user wants more like it), -1 (less like it) or 0 (neither); raises
        :class:`InvalidValueError` for a rating outside :attr:`rating_scale`."""
        if event.kind == "rating":
            low, high = self.rating_scale
            if not low <= event.value <= high:
                raise InvalidValueError(f"a rating must be in [{low}, {high}], got {shown(event.value)}")
            return 1 if event.value >= self.like_at else -1 if event.value <= self.dislike_at else 0
        if event.kind == "watch":
            return 1 if event.value >= self.watch_at else 0
        return 1 if event.kind == "like" else -1


class OnlineFeedback:
    """Writes feedback events to ``store`` and turns each user's stored events into a change of
    their logits (see the module). ``cold``: the served model's cold start (its fold-in);
    ``cached_users``: how many users' terms are kept (least recently used dropped first).
    Thread-safe."""

    def __init__(
        self, store: GraphStore, cold: ColdStart, policy: FeedbackPolicy | None = None, cached_users: int = 1024
    ) -> None:
        self.store = store
        self.cold = cold
        self._policy = policy or FeedbackPolicy()
        self.cached_users = cached_users
        self._cache: OrderedDict[str, tuple[object, tuple, torch.Tensor]] = OrderedDict()
        self._directions: tuple[object, torch.Tensor] | None = None
        self._lock = threading.Lock()

    @property
    def policy(self) -> FeedbackPolicy:
        return self._policy

    @policy.setter
    def policy(self, policy: FeedbackPolicy) -> None:
        if not isinstance(policy, FeedbackPolicy):
            raise InvalidValueError(f"policy must be a FeedbackPolicy, got {type(policy).__name__}")
        with self._lock:
            self._policy = policy
            self._cache.clear()

    def record(
        self,
        served: Served,
        user_id: str,
        item_id: str,
        kind: str,
        value: float | None = None,
        timestamp: int | None = None,
        source: str = "api",
    ) -> FeedbackEvent:
        """Write the event (:meth:`FeedbackEvent.checked`) to the store (see the module for the
        interaction it becomes) and return it. Raises :class:`~kgrec.errors.UnknownIdError` for
        a user or item the served model does not know, :class:`InvalidValueError` naming a bad
        kind or value; the store is then unchanged."""
        event = FeedbackEvent.checked(user_id, item_id, kind, value, timestamp, source)
        served.snapshot.index_of("user", [event.user_id])
        served.snapshot.index_of("item", [event.item_id])
        polarity = self.policy.polarity(event)
        existing = {r.item: r for r in self.store.user_interactions([event.user_id])[event.user_id]}
        before = existing.get(event.item_id)
        rating = event.value if event.kind == "rating" else before.rating if before else None
        self.store.upsert_interactions([
            Interaction(
                event.user_id,
                event.item_id,
                rating=rating,
                weight=event.value if event.kind == "watch" else float(polarity),
                timestamp=event.timestamp,
                split=before.split if before else FEEDBACK_SPLIT,
                kind=event.kind,
                source=event.source,
            )
        ])
        with self._lock:
            self._cache.pop(event.user_id, None)
        log.info("feedback %s of user %s on item %s", event.kind, shown(event.user_id), shown(event.item_id))
        return event

    def events(self, user_ids: Sequence[str]) -> dict[str, list[FeedbackEvent]]:
        """``{user id: their stored events}``, read in one store call, sorted by item id."""
        return {u: events for u, (events, _) in self._read(user_ids).items()}

    def _read(self, user_ids: Sequence[str]) -> dict[str, tuple[list[FeedbackEvent], int]]:
        """``{user id: (stored events, number of train interactions)}`` in one store call."""
        stored = self.store.user_interactions(user_ids)
        return {
            u: ([FeedbackEvent.of(r) for r in rows if r.kind is not None], sum(r.split == "train" for r in rows))
            for u, rows in stored.items()
        }

    @torch.no_grad()
    def adjust(
        self, served: Served, user_ids: Sequence[str], logits: torch.Tensor, unseen: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(logits, unseen)`` ``[B, I]`` of ``user_ids`` after their stored feedback: the
        module's term added to ``logits`` (the served model's) and each item with feedback set
        False in ``unseen``. Users without feedback keep their rows (the inputs are not
        modified)."""
        logits, unseen = logits.clone(), unseen.clone()
        stored = self._read(user_ids)
        for row, user_id in enumerate(user_ids):
            events, trained = stored[user_id]
            try:
                items = served.snapshot.index_of("item", [e.item_id for e in events])
            except UnknownIdError as exc:  # items another process added after this model
                log.debug("feedback on items the served model does not know: %s", exc)
                events = [e for e in events if e.item_id not in set(exc.ids)]
                items = served.snapshot.index_of("item", [e.item_id for e in events])
            if events:
                unseen[row, items] = False
                logits[row] += self._term(served, user_id, events, trained)
        return logits, unseen

    def _term(
        self, served: Served, user_id: str, events: list[FeedbackEvent], trained: int
    ) -> torch.Tensor:
        """``[I]`` the user's added term, from the cache when the events are unchanged."""
        key = (trained, *((e.item_id, e.kind, e.value) for e in events))
        with self._lock:
            cached = self._cache.get(user_id)
            if cached is not None and cached[0] is served.model and cached[1] == key:
                self._cache.move_to_end(user_id)
                return cached[2]
            policy = self._policy
        term = self.term(served, events, trained, policy)
        with self._lock:
            self._cache[user_id] = (served.model, key, term)
            self._cache.move_to_end(user_id)
            while len(self._cache) > self.cached_users:
                self._cache.popitem(last=False)
        return term

    @torch.no_grad()
    def term(
        self,
        served: Served,
        events: Sequence[FeedbackEvent],
        trained: int,
        policy: FeedbackPolicy | None = None,
    ) -> torch.Tensor:
        """``[I]`` what ``events`` (of one user with ``trained`` train interactions, on items
        ``served`` knows) add to the user's logits under ``policy`` (default :attr:`policy`),
        computed afresh (no cache)."""
        policy = policy or self.policy
        signs: Mapping[str, int] = {e.item_id: policy.polarity(e) for e in events}
        liked = [i for i, s in signs.items() if s > 0]
        disliked = [i for i, s in signs.items() if s < 0]
        term = torch.zeros(served.snapshot.num_nodes("item"))
        if liked and policy.alpha:
            share = len(liked) / (len(liked) + trained)
            term += policy.alpha * share * self.cold.fold_in_logits(served, liked)
        if disliked and policy.beta:
            unit = self._item_directions(served)
            rows = served.snapshot.index_of("item", disliked)
            similarity = (unit @ unit[rows].t()).max(1).values.clamp(min=0)
            term -= policy.beta * similarity
        return term

    def _item_directions(self, served: Served) -> torch.Tensor:
        """``[I, d]`` the served model's final item embeddings scaled to unit length, computed
        once per model."""
        with self._lock:
            if self._directions is not None and self._directions[0] is served.model:
                return self._directions[1]
        unit = torch.nn.functional.normalize(served.model.node_embeddings()["item"], dim=1)
        with self._lock:
            self._directions = (served.model, unit)
        return unit
