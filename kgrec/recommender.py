"""The facade users call: a trained model and a graph store, joined.

Scores come from the model; reasons come from the store (paths that exist in the graph); the
model's own attention and embeddings rank the reasons.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from kgrec.errors import (
    CheckpointError,
    InvalidValueError,
    StoreMismatchError,
    UnknownIdError,
    shown,
)
from kgrec.explain.explanation import ExplainedPath, Explanation, Recommendation
from kgrec.explain.ranking import PathRanker, path_view
from kgrec.explain.sentences import SentenceBuilder
from kgrec.graph.records import GraphPath, NodeRecord
from kgrec.graph.schema import Namespace
from kgrec.graph.snapshot import Snapshot, fingerprint_changes
from kgrec.graph.store import GraphStore
from kgrec.models import RankingModel, training_graph
from kgrec.train.checkpoint import Checkpoint, read_checkpoint, save_checkpoint

log = logging.getLogger(__name__)

#: ``filters``: item ids to allow, or a predicate on the item's stored record.
ItemFilter = Collection[str] | Callable[[NodeRecord], bool]

#: The largest value of each count option of :class:`Recommender`.
MAX_OPTION = 10_000


def _check_count(value: object, what: str, low: int = 1) -> int:
    """``value`` if it is an int from ``low`` to :data:`MAX_OPTION`, else InvalidValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_OPTION:
        raise InvalidValueError(f"{what} must be an int from {low} to {MAX_OPTION:,}, got {shown(value)}")
    return value


def _check_positive(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidValueError(f"{what} must be a positive int, got {shown(value)}")
    return value


def _check_flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidValueError(f"{what} must be True or False, got {shown(value)}")
    return value


def check_text_model(value: object) -> str | None:
    """``value`` if it can name a text encoder: ``None`` (no text), ``"default"`` (the packaged
    all-MiniLM-L6-v2), a Hugging Face model name or an existing local folder; raises
    :class:`InvalidValueError` otherwise."""
    if value is None or value == "default":
        return value
    if isinstance(value, str) and Path(value).is_dir():
        return value
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(value)
    except (HFValidationError, TypeError):
        raise InvalidValueError(
            "text_model must be None, 'default', a Hugging Face model name or an existing "
            f"folder, got {shown(value)}"
        ) from None
    return value


def _sigmoid(logit: float) -> float:
    if logit >= 0:
        return 1.0 / (1.0 + math.exp(-logit))
    return math.exp(logit) / (1.0 + math.exp(logit))  # no overflow for very negative logits


class _UserItems:
    """Items per user as CSR rows; ``users`` must be sorted (snapshots are)."""

    def __init__(self, users: torch.Tensor, items: torch.Tensor, num_users: int) -> None:
        counts = torch.bincount(users, minlength=num_users)
        self.ptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
        self.items = items

    def __getitem__(self, user: int) -> torch.Tensor:
        return self.items[self.ptr[user] : self.ptr[user + 1]]


class Recommender:
    """Ranked, explained recommendations from ``model`` over the graph in ``store``.

    Args:
        model: a trained :class:`~kgrec.models.RankingModel` built on ``snapshot``'s train graph.
        store: the graph store the model's snapshot came from (paths are read from it).
        snapshot: that snapshot (default: ``store.snapshot()``).
        sentences: the sentence builder (default: movie templates, no generator).
        paths_per_item: explanation paths returned per item.
        anchors_per_item: liked items whose paths to an item are considered: those whose
            paths weigh most (see :class:`~kgrec.explain.ranking.PathRanker`).
        peers: other users whose shared interactions may explain an item: those whose paths
            weigh most, i.e. the user's nearest neighbours in the model's embedding space
            (see ``peers`` in :meth:`~kgrec.graph.store.GraphStore.paths`: one path per liked
            item and item, through the best peer who shares both).
        paths_considered: paths fetched per item before the model ranks them.

    ``paths_per_item``, ``anchors_per_item`` and ``paths_considered`` are ints from 1 and
    ``peers`` from 0, all at most :data:`MAX_OPTION`.
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
    ) -> None:
        if not isinstance(model, RankingModel):
            raise InvalidValueError(f"model must be a RankingModel, got {type(model).__name__}")
        if not isinstance(store, GraphStore):
            raise InvalidValueError(f"store must be a GraphStore, got {type(store).__name__}")
        if snapshot is not None and not isinstance(snapshot, Snapshot):
            raise InvalidValueError(f"snapshot must be a Snapshot, got {type(snapshot).__name__}")
        if sentences is not None and not isinstance(sentences, SentenceBuilder):
            raise InvalidValueError(
                f"sentences must be a SentenceBuilder, got {type(sentences).__name__}"
            )
        self.paths_per_item = _check_count(paths_per_item, "paths_per_item")
        self.anchors_per_item = _check_count(anchors_per_item, "anchors_per_item")
        self.peers = _check_count(peers, "peers", low=0)
        self.paths_considered = _check_count(paths_considered, "paths_considered")
        self.model = model.eval()
        self.store = store
        self.snapshot = snapshot if snapshot is not None else store.snapshot()
        if self.snapshot.num_nodes("item") != model.num_items or self.snapshot.num_nodes("user") != model.num_users:
            raise StoreMismatchError(
                f"the model knows {model.num_users} users and {model.num_items} items, the store "
                f"has {self.snapshot.num_nodes('user')} and {self.snapshot.num_nodes('item')}"
            )
        self.sentences = sentences or SentenceBuilder()
        with torch.no_grad():
            self._encoded = model.encode()
            self.node_embeddings: dict[str, torch.Tensor] = model.node_embeddings()
        cosine = bool(model.hparams().get("cosine", False))
        self._ranker = PathRanker(self.snapshot, self.node_embeddings, cosine=cosine)
        self._relations = self.snapshot.relations
        item_ids = self.snapshot.node_ids["item"]
        self._items = dict(zip(item_ids, store.get_nodes("Item", item_ids)))
        table = self.snapshot.interactions
        num_users = self.snapshot.num_nodes("user")
        self._seen = _UserItems(table.user, table.item, num_users)  # any split
        train = table.mask(("train",))
        self._liked = _UserItems(table.user[train], table.item[train], num_users)

    # -- scoring --------------------------------------------------------------------------------
    def _users(self, user_ids: Sequence[str]) -> torch.Tensor:
        if (
            isinstance(user_ids, (str, bytes, Mapping))
            or not isinstance(user_ids, Sequence)
            or not all(isinstance(u, str) for u in user_ids)
        ):
            raise InvalidValueError(f"user_ids must be a sequence of id strings, got {shown(user_ids)}")
        return self.snapshot.index_of("user", list(user_ids))

    def _allowed(self, filters: ItemFilter | None) -> torch.Tensor | None:
        if filters is None:
            return None
        ids = self.snapshot.node_ids["item"]
        if callable(filters):
            return torch.tensor([bool(filters(self._items[i])) for i in ids], dtype=torch.bool)
        if (
            isinstance(filters, (str, bytes, Mapping))
            or not isinstance(filters, Collection)
            or not all(isinstance(i, str) for i in filters)
        ):
            raise InvalidValueError(
                "filters must be a collection of item id strings or a predicate on an item's "
                f"NodeRecord, got {type(filters).__name__} {shown(filters)}"
            )
        unknown = sorted(set(filters) - set(ids))
        if unknown:
            raise UnknownIdError("item", unknown)
        allowed = set(filters)
        return torch.tensor([i in allowed for i in ids], dtype=torch.bool)

    @torch.no_grad()
    def logits(self, user_ids: Sequence[str]) -> torch.Tensor:
        """``[B, I]`` logits :math:`g` of the users against every item (score = sigmoid)."""
        return self.model.score(self._encoded, self._users(user_ids))

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
        _check_positive(k, "k")
        if candidates is not None:
            _check_positive(candidates, "candidates")
        _check_flag(exclude_seen, "exclude_seen")
        _check_flag(explain, "explain")
        users = self._users(user_ids)
        allowed = self._allowed(filters)
        if not user_ids:
            return {}
        logits = self.logits(user_ids)
        masked = -float("inf")
        if exclude_seen:
            for row, u in enumerate(users.tolist()):
                logits[row, self._seen[u]] = masked
        if allowed is not None:
            logits = logits.masked_fill(~allowed, masked)
        if candidates is not None:
            logits = logits.masked_fill(~self._nearest(users, candidates), masked)
        top = torch.topk(logits, min(k, logits.size(1)), dim=1)
        item_ids = self.snapshot.node_ids["item"]
        result = {}
        for row, user_id in enumerate(user_ids):
            chosen = [
                (i, g)
                for i, g in zip(top.indices[row].tolist(), top.values[row].tolist())
                if g > masked
            ]
            rows = [i for i, _ in chosen]
            ids = [item_ids[i] for i in rows]
            explanations = {}
            if explain and ids:
                explanations = self._explain(user_id, int(users[row]), ids, rows)
            result[user_id] = [
                Recommendation(
                    rank=rank,
                    item_id=item_id,
                    name=self._items[item_id].name,
                    text=self._items[item_id].text,
                    score=_sigmoid(logit),
                    logit=logit,
                    explanation=explanations.get(item_id),
                )
                for rank, (item_id, (_, logit)) in enumerate(zip(ids, chosen), start=1)
            ]
        return result

    def publish_embeddings(self, similarity: str = "cosine") -> str:
        """Write the model's user and item embeddings onto the store's nodes and (re)build the
        item vector index for them (for :meth:`recommend` with ``candidates``). Returns the
        index name."""
        for node_type, label in (("user", "User"), ("item", "Item")):
            self.store.write_embeddings(
                label, self.snapshot.node_ids[node_type], self.node_embeddings[node_type].numpy()
            )
        dimensions = int(self.node_embeddings["item"].size(1))
        return self.store.create_vector_index("Item", dimensions, similarity, replace=True)

    def _nearest(self, users: torch.Tensor, n: int) -> torch.Tensor:
        """``[B, I]`` mask of the ``n`` items nearest to each user in the store's vector index."""
        mask = torch.zeros(users.numel(), self.snapshot.num_nodes("item"), dtype=torch.bool)
        for row, u in enumerate(users.tolist()):
            hits = self.store.query_vector_index("Item", self.node_embeddings["user"][u].numpy(), n)
            mask[row, self.snapshot.index_of("item", [i for i, _ in hits])] = True
        return mask

    def explain(self, user_id: str, item_id: str) -> Explanation:
        """The explanation of any item for a user, recommended or not."""
        user = int(self._users([user_id])[0])
        rows = self.snapshot.index_of("item", [item_id]).tolist()
        return self._explain(user_id, user, [item_id], rows)[item_id]

    def _attention(
        self, user: int, item_ids: list[str], rows: list[int]
    ) -> tuple[dict[str, float], dict[str, float]]:
        """The user's attention per item relation and alpha per item (uniform / 1 when the model
        has no attention); ``user`` and ``rows`` index the snapshot."""
        score_parts = getattr(self.model, "score_parts", None)
        if score_parts is None:
            return {}, dict.fromkeys(item_ids, 1.0)
        with torch.no_grad():
            parts = score_parts(self._encoded, torch.tensor([user]), torch.tensor(rows))
        names = self.model.relation_names
        attention = dict(zip(names, parts.relation_attention[0].tolist()))
        return attention, dict(zip(item_ids, parts.alpha[0].tolist()))

    def _anchors(self, user: int, item_ids: list[str], rows: list[int]) -> dict[str, list[str]]:
        """For each item, the ``anchors_per_item`` liked (train) items whose paths to it weigh
        most (:meth:`PathRanker.anchors`): the first steps worth explaining with."""
        liked = self._liked[user].tolist()
        names = self.snapshot.node_ids["item"]
        chosen = self._ranker.anchors(liked, rows, self.anchors_per_item)
        return {i: [names[a] for a in anchors] for i, anchors in zip(item_ids, chosen)}

    def _peers(self, user: int) -> list[str]:
        """The ``peers`` other users whose paths weigh most (:meth:`PathRanker.peers`)."""
        names = self.snapshot.node_ids["user"]
        return [names[v] for v in self._ranker.peers(user, self.peers)]

    def candidate_paths(self, user_id: str, item_ids: list[str]) -> dict[str, list[GraphPath]]:
        """The paths the explanations are chosen from: at most ``paths_considered`` per item,
        through the ``anchors_per_item`` liked items most similar to it and the user's
        ``peers``, over train interactions and the snapshot's KG relations, in one store
        round trip. Items that restriction leaves without a path are asked again through any
        liked item, and those still without one with no restriction at all (further round
        trips, only for those items: rare, and the last only for users with few
        interactions)."""
        user = int(self._users([user_id])[0])
        rows = self.snapshot.index_of("item", item_ids).tolist()
        return self._candidate_paths(user_id, user, item_ids, rows)

    def _candidate_paths(
        self, user_id: str, user: int, item_ids: list[str], rows: list[int]
    ) -> dict[str, list[GraphPath]]:
        """:meth:`candidate_paths` for ids already resolved to snapshot rows."""
        peers = self._peers(user)
        anchors = self._anchors(user, item_ids, rows)
        restrictions = (
            {"via": anchors, "peers": peers, "relations": self._relations},
            {"peers": peers, "relations": self._relations},  # any liked item as first step
            {},  # any path at all
        )
        found: dict[str, list[GraphPath]] = {}
        unreached = list(item_ids)
        for restriction in restrictions:
            found.update(
                self.store.paths(user_id, unreached, limit=self.paths_considered, **restriction)
            )
            unreached = [i for i in unreached if not found[i]]
            if not unreached:
                break
        return {i: found[i] for i in item_ids}

    def _explain(
        self, user_id: str, user: int, item_ids: list[str], rows: list[int]
    ) -> dict[str, Explanation]:
        """Explanations of ``item_ids`` (snapshot ``rows``) for ``user_id`` (row ``user``)."""
        found = self._candidate_paths(user_id, user, item_ids, rows)
        attention, alphas = self._attention(user, item_ids, rows)
        weighed = self._ranker.weigh(user_id, found, attention, alphas)
        explanations = {}
        for item_id in item_ids:
            paths = found[item_id]
            ranked = sorted(zip(weighed[item_id], range(len(paths))), key=lambda wk: -wk[0])
            explanations[item_id] = Explanation(
                user_id,
                item_id,
                tuple(
                    ExplainedPath(paths[j], w, path_view(paths[j]), self.sentences.sentence(paths[j]))
                    for w, j in self._diverse(ranked, paths)
                ),
                getattr(self.store, "namespace", Namespace()),  # Neo4j stores have one
            )
        return explanations

    def _diverse(
        self, ranked: list[tuple[float, int]], paths: list[GraphPath]
    ) -> list[tuple[float, int]]:
        """The heaviest path first, then the heaviest path of each relation not shown yet, then
        of each new (liked item, relation) pair, then the rest by weight: three near-identical
        "another user also liked it" paths tell a reader less than one of them and a director
        or genre path."""
        views: set[str] = set()
        reasons: set[tuple[str, str]] = set()
        tiers = []
        for _, j in ranked:
            view = path_view(paths[j])
            reason = (paths[j].nodes[1].id, view)
            tiers.append(0 if view not in views else 1 if reason not in reasons else 2)
            views.add(view)
            reasons.add(reason)
        order = sorted(range(len(ranked)), key=tiers.__getitem__)  # stable: by weight per tier
        return [ranked[t] for t in order[: self.paths_per_item]]

    # -- persistence ----------------------------------------------------------------------------
    def save(
        self, directory: str | Path, *, text_model: str | None = None, with_kg: bool = True
    ) -> Path:
        """Write the model as ``config.json`` + ``model.safetensors`` with what
        :meth:`from_checkpoint` needs to rebuild it on a store: the snapshot's fingerprints,
        whether the training graph had the KG, and ``text_model``, the name of the text encoder
        the node features came from (``None``, ``"default"`` for the packaged all-MiniLM-L6-v2,
        a Hugging Face model name or a folder; see :func:`check_text_model`). ``text_model``
        is metadata: the text vectors themselves are saved with the weights."""
        text_model = check_text_model(text_model)
        _check_flag(with_kg, "with_kg")
        graph = training_graph(self.snapshot, with_kg=with_kg)
        serving = {
            "snapshot": self.snapshot.fingerprints(),
            "text_model": text_model,
            "with_kg": with_kg,
        }
        return save_checkpoint(self.model, directory, graph, {"serving": serving})

    @classmethod
    def from_checkpoint(
        cls, directory: str | Path, store: GraphStore, **options: Any
    ) -> "Recommender":
        """Load a model saved by :meth:`save` and serve it from ``store`` (``options`` go to
        the constructor). The node text vectors come from the checkpoint: no text encoder is
        loaded.

        Raises :class:`~kgrec.errors.CheckpointError`, naming the file and the field, for a
        missing, corrupt or edited checkpoint, and when ``store`` does not hold the graph the
        model was trained on (saying which node ids or edges differ).
        """
        checkpoint = read_checkpoint(directory)
        serving = _serving(checkpoint)
        snapshot = store.snapshot()
        changes = fingerprint_changes(serving["snapshot"], snapshot.fingerprints())
        if changes:
            raise CheckpointError(
                f"checkpoint {checkpoint.config_file} was trained on a different graph: "
                + "; ".join(changes)
            )
        text = checkpoint.model_class.saved_text(checkpoint.state)
        try:
            graph = training_graph(snapshot, text, with_kg=serving["with_kg"])
        except ValueError as exc:  # text vectors of another size than the node ids
            raise CheckpointError(f"{checkpoint.weights_file}: {exc}") from None
        return cls(checkpoint.build(graph), store, snapshot, **options)

    def check_store(self, store: GraphStore) -> None:
        """Raise :class:`StoreMismatchError` unless ``store`` holds the model's graph (the same
        node ids, train interactions and knowledge-graph edges), saying what differs."""
        changes = fingerprint_changes(self.snapshot.fingerprints(), store.snapshot().fingerprints())
        if changes:
            raise StoreMismatchError(
                "the store does not hold the graph the model was trained on: " + "; ".join(changes)
            )


#: The fields of a checkpoint's ``extra.serving``, written by :meth:`Recommender.save`.
SERVING_FIELDS = ("snapshot", "text_model", "with_kg")


def _serving(checkpoint: Checkpoint) -> dict[str, Any]:
    """The checked ``extra.serving`` section of a checkpoint saved by :meth:`Recommender.save`."""
    where = f"{checkpoint.config_file}: field extra.serving"
    serving = checkpoint.extra.get("serving")
    if serving is None:
        raise CheckpointError(
            f"{where} missing: not a kgrec serving checkpoint (Recommender.save writes one)"
        )
    if not isinstance(serving, dict) or sorted(serving) != sorted(SERVING_FIELDS):
        raise CheckpointError(
            f"{where} must be an object with the fields {list(SERVING_FIELDS)}, got {shown(serving)}"
        )
    fingerprints = serving["snapshot"]
    if not isinstance(fingerprints, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in fingerprints.items()
    ):
        raise CheckpointError(f"{where}.snapshot must map strings to strings, got {shown(fingerprints)}")
    if not isinstance(serving["with_kg"], bool):
        raise CheckpointError(f"{where}.with_kg must be true or false, got {shown(serving['with_kg'])}")
    try:
        check_text_model(serving["text_model"])
    except InvalidValueError as exc:
        raise CheckpointError(f"{where}.{exc}") from None
    return serving
