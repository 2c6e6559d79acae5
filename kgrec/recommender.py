"""The facade users call: a trained model and a graph store, joined.

Scores come from the model; reasons come from the store (paths that exist in the graph); the
model's own attention and embeddings rank the reasons.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import torch

from kgrec.checks import flag, id_strings, instance, int_in_range
from kgrec.cold import ColdStart, LazyTextEncoder, Served
from kgrec.errors import InvalidValueError, StoreMismatchError, shown
from kgrec.explain.calibration import METHODS, ScoreCalibration
from kgrec.explain.explainer import Explainer
from kgrec.explain.explanation import Explanation, Recommendation
from kgrec.explain.sentences import SentenceBuilder
from kgrec.feedback import FeedbackEvent, OnlineFeedback
from kgrec.graph.records import GraphPath, NodeRecord
from kgrec.graph.snapshot import Snapshot, fingerprint_changes
from kgrec.graph.store import GraphStore
from kgrec.item_filter import ItemFilter, allowed_items
from kgrec.models import RankingModel
from kgrec.text.node_vectors import Encodes
from kgrec.vector_candidates import nearest_items, publish_embeddings
from kgrec.train.checkpoint import check_text_model, load_serving, save_serving
from kgrec.train.pretrained import Pretrained

log = logging.getLogger(__name__)


class Recommender(Pretrained):
    """Ranked, explained recommendations from ``model`` over the graph in ``store``.

    Args:
        model: a trained :class:`~kgrec.models.RankingModel` built on ``snapshot``'s train graph.
        store: the graph store the model's snapshot came from (paths are read from it).
        snapshot: that snapshot (default: ``store.snapshot()``).
        sentences, paths_per_item, anchors_per_item, peers, paths_considered: the
            explanation pipeline's options, see :class:`~kgrec.explain.explainer.Explainer`
            (``rec.explainer`` holds them; defaults: movie sentence templates, 3, 3, 20, 50).
        text_encoder: what encodes the text of items and users added later (:meth:`add_item`,
            :meth:`add_user`): the encoder the model's text features came from, or its name as
            :meth:`save` takes it (loaded on first use); :meth:`from_checkpoint` defaults to the
            checkpoint's. ``None``: new nodes get no text feature from it (an error for a
            model that reads text).
        calibration: what turns a logit into :attr:`Recommendation.score`: a
            :class:`~kgrec.explain.calibration.ScoreCalibration` (see :meth:`calibrate`), or
            ``None``: the score is then ``sigmoid(logit)`` (near 1 for every top item of a
            softmax-trained model). :meth:`save` keeps it.
    """

    def __init__(
        self,
        model: RankingModel,
        store: GraphStore,
        snapshot: Snapshot | None = None,
        *,
        sentences: SentenceBuilder | None = None,
        paths_per_item: int = 3,
        anchors_per_item: int = 3,
        peers: int = 20,
        paths_considered: int = 50,
        text_encoder: Encodes | str | None = None,
        calibration: ScoreCalibration | None = None,
    ) -> None:
        instance(model, RankingModel, "model")
        instance(store, GraphStore, "store")
        instance(snapshot, Snapshot, "snapshot", optional=True)
        instance(sentences, SentenceBuilder, "sentences", optional=True)
        self.explainer = Explainer(
            store,
            sentences or SentenceBuilder(),
            paths_per_item=paths_per_item,
            anchors_per_item=anchors_per_item,
            peers=peers,
            paths_considered=paths_considered,
        )
        if isinstance(text_encoder, str):
            text_encoder = LazyTextEncoder(check_text_model(text_encoder))
        elif text_encoder is not None and not callable(getattr(text_encoder, "encode", None)):
            raise InvalidValueError(
                f"text_encoder must be a text encoder, a model name or None, got {type(text_encoder).__name__}"
            )
        if calibration is not None and not isinstance(calibration, ScoreCalibration):
            raise InvalidValueError(f"calibration must be a ScoreCalibration or None, got {type(calibration).__name__}")
        self.calibration = calibration
        self.store = store
        snapshot = snapshot if snapshot is not None else store.snapshot()
        if snapshot.num_nodes("item") != model.num_items or snapshot.num_nodes("user") != model.num_users:
            raise StoreMismatchError(
                f"the model knows {model.num_users} users and {model.num_items} items, the store "
                f"has {snapshot.num_nodes('user')} and {snapshot.num_nodes('item')}"
            )
        self._cold = ColdStart(store, text_encoder)
        self.online = OnlineFeedback(store, self._cold)  # feedback events: kgrec.feedback
        item_ids = snapshot.node_ids["item"]
        self._serve(model, snapshot, dict(zip(item_ids, store.get_nodes("Item", item_ids))))

    def _serve(self, model: RankingModel, snapshot: Snapshot, items: dict[str, NodeRecord]) -> None:
        """Serve ``model`` on ``snapshot`` (``items``: every item's stored record)."""
        self.model = model.eval()
        self.snapshot = snapshot
        with torch.no_grad():
            self._encoded = model.encode()
            self.node_embeddings: dict[str, torch.Tensor] = model.node_embeddings()
        self._items = items
        self._seen = snapshot.interactions.items_by_user(snapshot.num_nodes("user"))  # any split
        self._prior: torch.Tensor | None = None  # personal_logits() with no profile, on demand
        self.explainer.serve(model, self._encoded, self.node_embeddings, snapshot)

    @property
    def items(self) -> Mapping[str, NodeRecord]:
        """Every served item's stored record, by id (read-only)."""
        return MappingProxyType(self._items)

    # -- scoring --------------------------------------------------------------------------------
    def _users(self, user_ids: Sequence[str]) -> torch.Tensor:
        return self.snapshot.index_of("user", id_strings(user_ids, "user_ids"))

    @torch.no_grad()
    def logits(self, user_ids: Sequence[str]) -> torch.Tensor:
        """``[B, I]`` logits :math:`g` of the users against every item (see :meth:`scores`); a
        user :meth:`add_user` added with text and liked items gets
        :meth:`kgrec.cold.ColdStart.blended` logits."""
        users = self._users(user_ids)
        return self._cold.blended(self._served(), list(user_ids), self.model.score(self._encoded, users))

    def unseen(self, user_ids: Sequence[str]) -> torch.Tensor:
        """``[B, I]`` True where user ``user_ids[b]`` has no interaction with item ``i`` (any
        split): the items :meth:`recommend` ranks by default."""
        users = self._users(user_ids)
        unseen = torch.ones(len(user_ids), self.snapshot.num_nodes("item"), dtype=torch.bool)
        for row, u in enumerate(users.tolist()):
            unseen[row, self._seen[u]] = False
        return unseen

    def scores(self, logits: torch.Tensor, unseen: torch.Tensor) -> torch.Tensor:
        """``[B, I]`` :attr:`Recommendation.score` of ``logits`` ``[B, I]``: the calibrated
        probability (``unseen`` ``[B, I]``: True at each user's items without an interaction,
        the ones the calibration normalizes over), or ``sigmoid(logit)`` without a
        calibration."""
        if self.calibration is None:
            return torch.sigmoid(logits.double())
        return self.calibration.transform(logits, unseen)

    def calibrate(self, method: str = METHODS[0]) -> ScoreCalibration:
        """Fit a :class:`~kgrec.explain.calibration.ScoreCalibration` (``method``, one of
        :data:`~kgrec.explain.calibration.METHODS`) on the served snapshot's valid split,
        serve scores with it from now on and return it: each score becomes the probability,
        estimated on the validation split, that the user likes the item. Without valid
        interactions it raises :class:`InvalidValueError` and the recommender keeps its
        current scores."""
        self.calibration = ScoreCalibration.fit(self.model, self.snapshot, method)
        return self.calibration

    # -- recommendations ------------------------------------------------------------------------
    def recommend(
        self,
        user_id: str,
        k: int = 10,
        exclude_seen: bool = True,
        filters: ItemFilter | None = None,
        explain: bool = True,
        candidates: int | None = None,
    ) -> list[Recommendation]:
        """The top-``k`` items for ``user_id``, best first, each with its explanation.

        ``exclude_seen`` drops items the user already interacted with (any split); ``filters``
        restricts the candidates; ``candidates=n`` scores only the ``n`` items nearest to the
        user in the store's vector index (see :meth:`publish_embeddings`). Raises
        :class:`UnknownIdError` for an unknown user or filter item and
        :class:`InvalidValueError`, naming the argument, for a value of the wrong type or range
        (``k <= 0``, ``filters=123``).
        """
        if not isinstance(user_id, str):
            raise InvalidValueError(f"user_id must be a string, got {shown(user_id)}")
        return self.recommend_batch([user_id], k, exclude_seen, filters, explain, candidates)[user_id]

    def recommend_batch(
        self,
        user_ids: Sequence[str],
        k: int = 10,
        exclude_seen: bool = True,
        filters: ItemFilter | None = None,
        explain: bool = True,
        candidates: int | None = None,
    ) -> dict[str, list[Recommendation]]:
        """:meth:`recommend` for many users, scored in one pass: ``{user id: recommendations}``
        (empty for no users)."""
        int_in_range(k, "k")
        if candidates is not None:
            int_in_range(candidates, "candidates")
        flag(exclude_seen, "exclude_seen")
        flag(explain, "explain")
        users = self._users(user_ids)
        allowed = allowed_items(filters, self.snapshot.node_ids["item"], self._items)
        if not user_ids:
            return {}
        logits, unseen = self.online.adjust(self._served(), user_ids, self.logits(user_ids), self.unseen(user_ids))
        scores = self.scores(logits, unseen)
        masked = -float("inf")
        if exclude_seen:
            logits = logits.masked_fill(~unseen, masked)
        if allowed is not None:
            logits = logits.masked_fill(~allowed, masked)
        if candidates is not None:
            nearest = nearest_items(self.store, self.snapshot, self.node_embeddings["user"][users], candidates)
            logits = logits.masked_fill(~nearest, masked)
        result = {}
        for row, (user_id, chosen) in enumerate(zip(user_ids, self._top(logits, k))):
            rows = [i for i, _ in chosen]
            ids = self._item_ids(rows)
            explanations = {}
            if explain and ids:
                explanations = self.explainer.explain(user_id, int(users[row]), ids, rows)
            result[user_id] = self._recommendations(chosen, scores[row], explanations)
        return result

    def _top(self, logits: torch.Tensor, k: int) -> list[list[tuple[int, float]]]:
        """Per row of ``[B, I]`` ``logits``, the ``(item row, logit)`` of its top ``k`` items,
        best first, leaving out masked (``-inf``) items."""
        top = torch.topk(logits, min(k, logits.size(1)), dim=1)
        return [
            [(i, g) for i, g in zip(rows, values) if g > -math.inf]
            for rows, values in zip(top.indices.tolist(), top.values.tolist())
        ]

    def _item_ids(self, rows: list[int]) -> list[str]:
        names = self.snapshot.node_ids["item"]
        return [names[i] for i in rows]

    def _recommendations(
        self,
        chosen: list[tuple[int, float]],
        scores: torch.Tensor,
        explanations: Mapping[str, Explanation],
    ) -> list[Recommendation]:
        """Ranked :class:`Recommendation` records of ``chosen`` ``(item row, logit)`` pairs;
        ``scores`` ``[I]``: every item's :meth:`scores`."""
        return [
            self._recommendation(rank, item_id, float(scores[row]), logit, explanations.get(item_id))
            for rank, (item_id, (row, logit)) in enumerate(
                zip(self._item_ids([i for i, _ in chosen]), chosen), start=1
            )
        ]

    def _recommendation(
        self, rank: int, item_id: str, score: float, logit: float, explanation: Explanation | None
    ) -> Recommendation:
        item = self._items[item_id]
        return Recommendation(rank=rank, item_id=item_id, name=item.name, text=item.text, score=score,
                              logit=logit, explanation=explanation)

    def feedback(self, user_id: str, item_id: str, kind: str, *, value: float | None = None,
                 timestamp: int | None = None, source: str = "api") -> FeedbackEvent:
        """Write a ``like``, ``dislike``, ``rating`` or ``watch`` (:mod:`kgrec.feedback`); ``recommend`` reflects it."""
        return self.online.record(self._served(), user_id, item_id, kind, value, timestamp, source)

    def publish_embeddings(self, similarity: str = "cosine") -> str:
        """Write the model's user and item embeddings onto the store's nodes and (re)build the
        item vector index for them (for :meth:`recommend` with ``candidates``). Returns the
        index name."""
        return publish_embeddings(self.store, self.snapshot, self.node_embeddings, similarity)

    def explain(self, user_id: str, item_id: str) -> Explanation:
        """The explanation of any item for a user, recommended or not."""
        return self.explain_items(user_id, [item_id])[item_id]

    def explain_items(self, user_id: str, item_ids: Sequence[str]) -> dict[str, Explanation]:
        """``{item id: explanation}`` of any items for a user, their paths read in one store
        call."""
        user = int(self._users([user_id])[0])
        rows = self.snapshot.index_of("item", list(item_ids)).tolist()
        return self.explainer.explain(user_id, user, list(item_ids), rows)

    def seen_items(self, user_id: str) -> list[str]:
        """The items ``user_id`` interacted with, in any split (what :meth:`recommend` leaves
        out by default)."""
        return self._item_ids(self._seen[int(self._users([user_id])[0])].tolist())

    def candidate_paths(self, user_id: str, item_ids: list[str]) -> dict[str, list[GraphPath]]:
        """The paths the explanations of ``item_ids`` are chosen from (see
        :meth:`kgrec.explain.explainer.Explainer.candidate_paths`)."""
        user = int(self._users([user_id])[0])
        rows = self.snapshot.index_of("item", item_ids).tolist()
        return self.explainer.candidate_paths(user_id, user, item_ids, rows)

    # -- cold start (kgrec.cold): new nodes, no retraining ---------------------------------------
    def add_item(
        self,
        item_id: str,
        *,
        text: str,
        name: str | None = None,
        properties: Mapping[str, Any] | None = None,
        links: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Add item ``item_id`` to the store and to the model, recommendable and explainable
        at once: its text is encoded with the model's text encoder and its ``links``
        ``(relation, entity id)`` (relations the model was trained on) become KG edges its
        embedding is propagated from. See :meth:`kgrec.cold.ColdStart.add_item` for the errors;
        on any of them the store is unchanged."""
        served = self._cold.add_item(self._served(), item_id, text, name, properties, links)
        [record] = self.store.get_nodes("Item", [item_id])
        self._serve(served.model, served.snapshot, {**self._items, item_id: record})

    def add_user(self, user_id: str, *, text: str | None = None, liked: Sequence[str] = ()) -> None:
        """Add user ``user_id`` with attribute ``text`` and/or ``liked`` items (written as
        train interactions) to the store and to the model: :meth:`recommend` serves them at
        once, explained through the liked items. See :meth:`kgrec.cold.ColdStart.add_user`
        for the errors; on any of them the store is unchanged."""
        served = self._cold.add_user(self._served(), user_id, text, liked)
        self._serve(served.model, served.snapshot, self._items)

    def recommend_for_items(
        self, liked: Sequence[str], k: int = 10, filters: ItemFilter | None = None
    ) -> list[Recommendation]:
        """The top-``k`` items for an anonymous user who liked ``liked``, as :meth:`add_user`
        with those items would rank them, without writing anything; the liked items are
        excluded. No explanation (``explanation=None``): the store holds no path from a user
        it does not know. Raises :class:`UnknownIdError` for unknown items."""
        int_in_range(k, "k")
        allowed = allowed_items(filters, self.snapshot.node_ids["item"], self._items)
        logits = self._cold.fold_in_logits(self._served(), liked)
        unseen = torch.ones_like(logits, dtype=torch.bool)
        unseen[self.snapshot.index_of("item", list(liked))] = False
        scores = self.scores(logits.unsqueeze(0), unseen.unsqueeze(0))[0]
        logits = logits.masked_fill(~unseen, -float("inf"))
        if allowed is not None:
            logits = logits.masked_fill(~allowed, -float("inf"))
        return self._recommendations(self._top(logits.unsqueeze(0), k)[0], scores, {})

    @torch.no_grad()
    def personal_logits(self, user_id: str | None = None, liked: Sequence[str] = ()) -> torch.Tensor:
        """``[I]`` logits of every item for one person: the known user ``user_id``; else an
        anonymous person who liked ``liked`` (the cold-start fold-in of :meth:`add_user`,
        nothing written); else, with neither, the mean logits of every known user (a prior
        with no profile, computed once per served model). Nothing is masked."""
        if user_id is not None:
            if liked:
                raise InvalidValueError("personal_logits takes a user id or liked items, not both")
            return self.logits([user_id])[0]
        if liked:
            return self._cold.fold_in_logits(self._served(), liked)
        if self._prior is None:
            self._prior = self._cold.prior_logits(self._served(), self._encoded)
        return self._prior.clone()

    def _served(self) -> Served:
        return Served(self.model, self.snapshot)

    # -- persistence ----------------------------------------------------------------------------
    def save(self, directory: str | Path, *, text_model: str | None = None, with_kg: bool = True) -> Path:
        """Write the model as ``config.json`` + ``model.safetensors`` with what
        :meth:`from_checkpoint` needs to rebuild it on a store: the snapshot's fingerprints,
        whether the training graph had the KG, and ``text_model``, the name of the text encoder
        the node features came from (``None``, ``"default"`` for the packaged all-MiniLM-L6-v2,
        a Hugging Face model name or a folder; see :func:`check_text_model`). ``text_model``
        is metadata: the text vectors themselves are saved with the weights. The
        :attr:`calibration`, if any, is saved as plain numbers in ``config.json``, the users
        :meth:`add_user` added with text and liked items in ``blended_users.json``."""
        flag(with_kg, "with_kg")
        text_model = check_text_model(text_model)
        path = save_serving(self.model, self.snapshot, directory, text_model, with_kg, self.calibration)
        self._cold.save_blended(path)
        return path

    @classmethod
    def from_checkpoint(cls, directory: str | Path, store: GraphStore, **options: Any) -> "Recommender":
        """Load a model saved by :meth:`save` and serve it from ``store`` (``options`` go to
        the constructor). The node text vectors and the score calibration (if one was saved)
        come from the checkpoint: no text encoder is loaded.

        Raises :class:`~kgrec.errors.CheckpointError`, naming the file and the field, for a
        missing, corrupt or edited checkpoint, and when ``store`` does not hold the graph the
        model was trained on (saying which node ids or edges differ).
        """
        model, snapshot, text_model, calibration = load_serving(directory, store)
        options.setdefault("text_encoder", text_model)
        options.setdefault("calibration", calibration)
        recommender = cls(model, store, snapshot, **options)
        recommender._cold.load_blended(directory, snapshot)
        return recommender

    def check_store(self, store: GraphStore) -> None:
        """Raise :class:`StoreMismatchError` unless ``store`` holds the model's graph (the same
        node ids, train interactions and knowledge-graph edges), saying what differs."""
        changes = fingerprint_changes(self.snapshot.fingerprints(), store.snapshot().fingerprints())
        if changes:
            raise StoreMismatchError(
                "the store does not hold the graph the model was trained on: " + "; ".join(changes)
            )
