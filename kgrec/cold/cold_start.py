"""New items and users for a trained model, written to the store and embedded without retraining.

Every request is validated against the model's snapshot and the store first, then the new
nodes' text is encoded and the model is grown (:meth:`~kgrec.models.RankingModel.grown`), and
only then is anything written: a bad request or a failing encoder leaves the store unchanged.
"""

from __future__ import annotations

import json
import logging
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from kgrec.checks import id_strings
from kgrec.cold.growth import grow_snapshot
from kgrec.errors import CheckpointError, InvalidValueError, KgrecError, UnknownIdError, shown
from kgrec.graph.records import Interaction, NodeRecord, Triple
from kgrec.graph.schema import NodeLabel, validate_relation
from kgrec.graph.snapshot import Snapshot
from kgrec.graph.store import GraphStore
from kgrec.models import RankingModel
from kgrec.text.node_vectors import Encodes

log = logging.getLogger(__name__)

#: The user id an anonymous request is folded in under. A lone surrogate is not valid Unicode,
#: so no store accepts it as an id (see :class:`~kgrec.graph.records.NodeRecord`): it can never
#: collide with a stored user.
ANONYMOUS = "\ud800anonymous"
#: :math:`w` of :meth:`ColdStart.blended`: the weight of a new user's fold-in from their liked
#: items alone beside the fold-in with their text. Picked on ml100k-cold's ``cold_user_valid``
#: (three seeds; 0.15-0.5 all helped, 0.25 most): see ``benchmarks/cold.py``.
LIKED_ONLY_WEIGHT = 0.25
#: The checkpoint file :meth:`ColdStart.save_blended` writes.
BLENDED_FILE = "blended_users.json"


@dataclass(frozen=True)
class Served:
    """A model and the snapshot it is built on."""

    model: RankingModel
    snapshot: Snapshot


class LazyTextEncoder:
    """The :class:`~kgrec.text.TextEncoder` named ``text_model`` (``"default"``, a Hugging Face
    name or a folder, as :meth:`kgrec.Recommender.save` records it), loaded on first use."""

    def __init__(self, text_model: str) -> None:
        self.text_model = text_model
        self._encoder: Encodes | None = None

    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        if self._encoder is None:
            from kgrec.text import TextEncoder

            self._encoder = TextEncoder(None if self.text_model == "default" else self.text_model)
        return self._encoder.encode(texts)


def _check_text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError(f"{what} must be a non-empty string, got {shown(value)}")
    return value


def _known(snapshot: Snapshot, node_type: str, node_id: str) -> bool:
    try:
        snapshot.index_of(node_type, [node_id])
    except UnknownIdError:
        return False
    return True


class ColdStart:
    """Adds items and users to ``store`` and to a served model, without retraining.

    Args:
        store: the graph store the served snapshot came from.
        encoder: encodes new nodes' text with the model the node features were built with
            (a :class:`~kgrec.text.TextEncoder`, an :class:`~kgrec.text.EmbeddingCache` or a
            :class:`LazyTextEncoder`); ``None`` for a model without text features.
    """

    def __init__(self, store: GraphStore, encoder: Encodes | None = None) -> None:
        self.store = store
        self.encoder = encoder
        self._text_and_liked: dict[str, list[str]] = {}  # users add_user added with both
        self._liked_only: dict[str, torch.Tensor] = {}  # their standardized liked-only fold-in
        self._liked_only_model: Callable[[], RankingModel | None] = lambda: None  # ... for it

    # -- requests -------------------------------------------------------------------------------
    def add_item(
        self,
        served: Served,
        item_id: str,
        text: str,
        name: str | None = None,
        properties: Mapping[str, Any] | None = None,
        links: Sequence[tuple[str, str]] = (),
    ) -> Served:
        """Write item ``item_id`` with its ``links`` (``item -[relation]-> entity``) and return
        the served model grown by it. Raises :class:`InvalidValueError` for an id that exists
        (as an item or an entity), empty ``text``, a relation the model was not trained on, or
        a malformed value; :class:`UnknownIdError` for a link to an entity the model does not
        know; :class:`~kgrec.errors.InvalidNameError` for a malformed relation name."""
        snapshot = served.snapshot
        props = {} if properties is None else properties
        record = NodeRecord(item_id, _check_text(text, "text"), name, props).validated()
        self._check_new(snapshot, item_id, NodeLabel.ITEM, NodeLabel.ENTITY)
        triples = [Triple(item_id, r, e, NodeLabel.ITEM, NodeLabel.ENTITY) for r, e in self._links(snapshot, links)]
        grown = self._grow(served, NodeLabel.ITEM, record, triples=triples)
        self.store.upsert_nodes(NodeLabel.ITEM, [record])
        if triples:
            self.store.upsert_triples(triples)
        log.info("added item %s with %d links", shown(item_id), len(triples))
        return grown

    def add_user(
        self, served: Served, user_id: str, text: str | None = None, liked: Sequence[str] = ()
    ) -> Served:
        """Write user ``user_id`` with ``liked`` items as train interactions and return the
        served model grown by it. Raises :class:`InvalidValueError` for an id that exists,
        empty ``text``, neither text nor liked items, or a malformed value;
        :class:`UnknownIdError` for liked items the model does not know."""
        record, interactions = self._user(served.snapshot, user_id, text, liked)
        self._check_new(served.snapshot, user_id, NodeLabel.USER)
        grown = self._grow(served, NodeLabel.USER, record, interactions=interactions)
        self.store.upsert_nodes(NodeLabel.USER, [record])
        if interactions:
            self.store.upsert_interactions(interactions)
        if text is not None and interactions:
            self._text_and_liked[user_id] = [i.item for i in interactions]
        log.info("added user %s with %d liked items", shown(user_id), len(interactions))
        return grown

    @torch.no_grad()
    def blended(self, served: Served, user_ids: Sequence[str], logits: torch.Tensor) -> torch.Tensor:
        r"""``logits`` ``[B, I]`` of ``user_ids``, where a user :meth:`add_user` added with text
        and liked items gets :math:`\hat g + w\,\hat f` instead: their standardized logits
        (zero mean, unit spread over the items) plus :data:`LIKED_ONLY_WEIGHT` times the
        standardized :meth:`fold_in_logits` of their liked items alone. Three liked items say
        more about a new person than their attribute text, which the grown model's embedding
        otherwise leans on. Rows of other users are returned as they are."""
        rows = [r for r, user in enumerate(user_ids) if user in self._text_and_liked]
        if not rows:
            return logits
        if self._liked_only_model() is not served.model:  # computed for another served model
            self._liked_only, self._liked_only_model = {}, weakref.ref(served.model)
        logits = logits.clone()
        for r in rows:
            user = user_ids[r]
            if user not in self._liked_only:
                self._liked_only[user] = _standardized(self.fold_in_logits(served, self._text_and_liked[user]))
            logits[r] = _standardized(logits[r]) + LIKED_ONLY_WEIGHT * self._liked_only[user]
        return logits

    def save_blended(self, directory: Path) -> None:
        """Write the users :meth:`blended` serves (``{user id: liked item ids}``) to
        ``directory/blended_users.json``; nothing without any."""
        if self._text_and_liked:
            (directory / BLENDED_FILE).write_text(json.dumps(self._text_and_liked, sort_keys=True), encoding="utf-8")

    def load_blended(self, directory: str | Path, snapshot: Snapshot) -> None:
        """Serve the users :meth:`save_blended` wrote to ``directory`` (if any) with
        :meth:`blended` logits; :class:`CheckpointError` naming the file for a malformed one
        or ids ``snapshot`` does not hold."""
        path = Path(directory) / BLENDED_FILE
        if not path.is_file():
            return
        try:
            users = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(users, dict) or not all(
                isinstance(items, list) and items for items in users.values()
            ):
                raise InvalidValueError("expected an object of user id -> list of liked item ids")
            snapshot.index_of("user", list(users))
            for items in users.values():
                snapshot.index_of("item", id_strings(items, "liked"))
        except (ValueError, KgrecError) as exc:
            raise CheckpointError(f"{path}: {exc}") from None
        self._text_and_liked = users

    def fold_in(self, served: Served, liked: Sequence[str], text: str | None = None) -> Served:
        """The served model grown by an unnamed user (id :data:`ANONYMOUS`) who liked
        ``liked``, as :meth:`add_user` would grow it, with nothing written."""
        record, interactions = self._user(served.snapshot, ANONYMOUS, text, liked, validate=False)
        return self._grow(served, NodeLabel.USER, record, interactions=interactions)

    @torch.no_grad()
    def fold_in_logits(self, served: Served, liked: Sequence[str]) -> torch.Tensor:
        """``[I]`` logits of every item for an unnamed user who liked ``liked`` (:meth:`fold_in`)."""
        grown = self.fold_in(served, liked)
        user = grown.snapshot.index_of("user", [ANONYMOUS])
        return grown.model.score(grown.model.encode(), user)[0]

    @staticmethod
    @torch.no_grad()
    def prior_logits(served: Served, encoded: object) -> torch.Tensor:
        """``[I]`` the mean logits of every known user (``encoded``: the served model's
        :meth:`~kgrec.models.RankingModel.encode` output): a person with no profile yet."""
        users = torch.arange(served.snapshot.num_nodes("user"))
        total = torch.zeros(served.snapshot.num_nodes("item"))
        for batch in users.split(1024):
            total += served.model.score(encoded, batch).sum(0)
        return total / max(users.numel(), 1)

    # -- validation -----------------------------------------------------------------------------
    def _user(
        self, snapshot: Snapshot, user_id: str, text: str | None, liked: Sequence[str], validate: bool = True
    ) -> tuple[NodeRecord, list[Interaction]]:
        if text is not None:
            _check_text(text, "text")
        items = list(dict.fromkeys(id_strings(liked, "liked")))
        if text is None and not items:
            raise InvalidValueError("a new user needs text, liked items or both; got neither")
        snapshot.index_of("item", items)  # UnknownIdError for items the model does not know
        record = NodeRecord(user_id, text)
        interactions = [Interaction(user_id, i) for i in items]
        if validate:
            record.validated()
            interactions = [r.validated() for r in interactions]
        return record, interactions

    def _check_new(self, snapshot: Snapshot, node_id: str, *labels: NodeLabel) -> None:
        """Raise unless ``node_id`` is free under every label, in the snapshot and the store."""
        for label in labels:
            if _known(snapshot, label.key, node_id) or self._stored(label, node_id):
                article = "an" if label is not NodeLabel.USER else "a"
                raise InvalidValueError(f"{shown(node_id)} exists already as {article} {label.value.lower()} id")

    def _stored(self, label: NodeLabel, node_id: str) -> bool:
        try:
            self.store.get_nodes(label, [node_id])
        except UnknownIdError:
            return False
        return True

    def _links(self, snapshot: Snapshot, links: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """Checked ``(relation, entity id)`` pairs, repeats dropped."""
        if isinstance(links, (str, bytes, Mapping)) or not isinstance(links, Sequence) or not all(
            isinstance(link, tuple) and len(link) == 2 for link in links
        ):
            raise InvalidValueError(f"links must be a sequence of (relation, entity id) pairs, got {shown(links)}")
        pairs = list(dict.fromkeys(links))
        known = sorted(rel for head, rel, tail in snapshot.triples if (head, tail) == ("item", "entity"))
        for relation, entity in pairs:
            validate_relation(relation)
            if relation not in known:
                raise InvalidValueError(
                    f"the model knows no item -> entity relation {shown(relation)}: expected one of {known}"
                )
            if not isinstance(entity, str):
                raise InvalidValueError(f"entity id must be a string, got {shown(entity)}")
        snapshot.index_of("entity", [e for _, e in pairs])
        return pairs

    # -- embedding ------------------------------------------------------------------------------
    def _grow(
        self,
        served: Served,
        label: NodeLabel,
        record: NodeRecord,
        interactions: Sequence[Interaction] = (),
        triples: Sequence[Triple] = (),
    ) -> Served:
        """The served model grown by ``record`` (of ``label``) and its edges."""
        model = served.model
        if not model.INDUCTIVE:
            raise KgrecError(
                f"{type(model).__name__} cannot embed nodes added after training: retrain it, "
                "or serve a model that can (KGRecModel)"
            )
        growth = grow_snapshot(served.snapshot, {label.key: [record]}, interactions, triples)
        new_row = growth.snapshot.index_of(label.key, [record.id])
        text = {}
        for t, saved in type(model).saved_text(model.state_dict()).items():
            full = saved.new_zeros(growth.snapshot.num_nodes(t), saved.size(1))
            full[growth.rows[t]] = saved
            if t == label.key and (record.text or record.name):
                full[new_row] = self._encode(record.text or record.name, saved.size(1))
            text[t] = full
        with torch.no_grad():
            grown = model.grown(growth.snapshot, growth.rows, text)
        return Served(grown, growth.snapshot)

    def _encode(self, text: str, dim: int) -> torch.Tensor:
        if self.encoder is None:
            raise KgrecError(
                "the model reads text features but the Recommender has no text encoder: pass "
                "text_encoder= (the encoder or the name of the model the features were built with)"
            )
        vector = self.encoder.encode([text])
        if vector.shape != (1, dim):
            raise InvalidValueError(
                f"the text encoder gives vectors of shape {list(vector.shape[1:])}, the model was "
                f"trained on text vectors of size {dim}: pass the encoder it was built with"
            )
        return vector[0].float()


def _standardized(logits: torch.Tensor) -> torch.Tensor:
    """``logits`` ``[I]`` shifted and scaled to zero mean and unit standard deviation."""
    return (logits - logits.mean()) / logits.std().clamp_min(1e-12)
