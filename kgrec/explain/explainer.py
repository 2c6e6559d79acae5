"""The explanation pipeline of a served model: anchors, peers, candidate paths, ranking,
diversification and sentences, in one object the :class:`~kgrec.Recommender` delegates to."""

from __future__ import annotations

import torch

from kgrec.checks import int_in_range
from kgrec.explain.explanation import ExplainedPath, Explanation
from kgrec.explain.ranking import PathRanker, path_view
from kgrec.explain.sentences import SentenceBuilder
from kgrec.graph.records import GraphPath
from kgrec.graph.schema import Namespace
from kgrec.graph.snapshot import Snapshot, UserItems
from kgrec.graph.store import GraphStore
from kgrec.models import RankingModel


#: The largest value of each count option.
MAX_OPTION = 10_000


class Explainer:
    """Explanations of items for users, from paths that exist in ``store``, weighed by the
    model's attention and embeddings (the model and graph come with :meth:`serve`).

    Args:
        store: where the paths are read.
        sentences: turns a path into a sentence.
        paths_per_item: explanation paths returned per item.
        anchors_per_item: liked items whose paths to an item are considered: those whose
            paths weigh most (:meth:`PathRanker.anchors`).
        peers: other users whose shared interactions may explain an item: those whose paths
            weigh most, i.e. the user's nearest neighbours in the model's embedding space (see
            ``peers`` in :meth:`~kgrec.graph.store.GraphStore.paths`).
        paths_considered: paths fetched per item before the model ranks them.

    The counts are ints from 1 (``peers`` from 0) to :data:`MAX_OPTION`; they may be changed
    between requests.
    """

    def __init__(
        self,
        store: GraphStore,
        sentences: SentenceBuilder,
        *,
        paths_per_item: int = 3,
        anchors_per_item: int = 3,
        peers: int = 20,
        paths_considered: int = 50,
    ) -> None:
        self.store = store
        self.sentences = sentences
        self.paths_per_item = int_in_range(paths_per_item, "paths_per_item", 1, MAX_OPTION)
        self.anchors_per_item = int_in_range(anchors_per_item, "anchors_per_item", 1, MAX_OPTION)
        self.peers = int_in_range(peers, "peers", 0, MAX_OPTION)
        self.paths_considered = int_in_range(paths_considered, "paths_considered", 1, MAX_OPTION)
        self.namespace = getattr(store, "namespace", Namespace())  # Neo4j stores have one

    def serve(
        self,
        model: RankingModel,
        encoded: object,
        embeddings: dict[str, torch.Tensor],
        snapshot: Snapshot,
    ) -> None:
        """Explain for ``model`` on ``snapshot`` from now on: ``encoded`` is its
        :meth:`~RankingModel.encode` output, ``embeddings`` its
        :meth:`~RankingModel.node_embeddings` (``{t: [N_t, d]}``)."""
        self.model = model
        self.encoded = encoded
        self.snapshot = snapshot
        cosine = bool(model.hparams().get("cosine", False))
        self.ranker = PathRanker(snapshot, embeddings, cosine=cosine)
        self.relations = snapshot.relations
        self.attributes = snapshot.attribute_relations
        self.liked: UserItems = snapshot.interactions.items_by_user(
            snapshot.num_nodes("user"), ("train",)
        )

    def explain(
        self, user_id: str, user: int, item_ids: list[str], rows: list[int]
    ) -> dict[str, Explanation]:
        """Explanations of ``item_ids`` (snapshot ``rows``) for ``user_id`` (row ``user``)."""
        found = self.candidate_paths(user_id, user, item_ids, rows)
        attention, alphas = self._attention(user, item_ids, rows)
        weighed = self.ranker.weigh(user_id, found, attention, alphas)
        explanations = {}
        for item_id in item_ids:
            paths = found[item_id]
            ranked = sorted(zip(weighed[item_id], range(len(paths))), key=lambda wk: -wk[0])
            ranked = _heaviest_per_aggregate(ranked, paths)
            explanations[item_id] = Explanation(
                user_id,
                item_id,
                tuple(
                    ExplainedPath(paths[j], w, path_view(paths[j]), self.sentences.sentence(paths[j]))
                    for w, j in self._diverse(ranked, paths)
                ),
                self.namespace,
            )
        return explanations

    def candidate_paths(
        self, user_id: str, user: int, item_ids: list[str], rows: list[int]
    ) -> dict[str, list[GraphPath]]:
        """The paths explanations are chosen from: at most ``paths_considered`` per item,
        through the ``anchors_per_item`` liked items whose paths to it weigh most and the
        user's ``peers``, over train interactions and the snapshot's KG relations, in one store
        round trip. Items that restriction leaves without a path are asked again through any
        liked item, and those still without one with no restriction at all (further round
        trips, only for those items: rare, and the last only for users with few
        interactions). Items left without any path, and every item of a user without train
        interactions (who has no other path), are asked for paths through the user's
        attributes (``user -> attribute <- peer -> item``, see
        :meth:`~kgrec.graph.store.GraphStore.paths`): through the ``peers``, then, for items
        still without one, through anyone who shares an attribute."""
        peers = self._peers(user)
        through_attributes = (
            {"attributes": self.attributes, "peers": peers},
            {"attributes": self.attributes},
        )
        restrictions: tuple[dict, ...] = through_attributes if self.attributes else ()
        if len(self.liked[user]):
            anchors = self._anchors(user, item_ids, rows)
            restrictions = (
                {"via": anchors, "peers": peers, "relations": self.relations},
                {"peers": peers, "relations": self.relations},  # any liked item as first step
                {},  # any path at all
                *restrictions,
            )
        found: dict[str, list[GraphPath]] = {i: [] for i in item_ids}
        unreached = list(item_ids)
        for restriction in restrictions:
            found.update(
                self.store.paths(user_id, unreached, limit=self.paths_considered, **restriction)
            )
            unreached = [i for i in unreached if not found[i]]
            if not unreached:
                break
        return {i: found[i] for i in item_ids}

    def _attention(
        self, user: int, item_ids: list[str], rows: list[int]
    ) -> tuple[dict[str, float], dict[str, float]]:
        """The user's attention per item relation and alpha per item (uniform / 1 when the model
        has no attention); ``user`` and ``rows`` index the snapshot."""
        score_parts = getattr(self.model, "score_parts", None)
        if score_parts is None:
            return {}, dict.fromkeys(item_ids, 1.0)
        with torch.no_grad():
            parts = score_parts(self.encoded, torch.tensor([user]), torch.tensor(rows))
        names = self.model.relation_names
        attention = dict(zip(names, parts.relation_attention[0].tolist()))
        return attention, dict(zip(item_ids, parts.alpha[0].tolist()))

    def _anchors(self, user: int, item_ids: list[str], rows: list[int]) -> dict[str, list[str]]:
        """For each item, the ``anchors_per_item`` liked (train) items whose paths to it weigh
        most (:meth:`PathRanker.anchors`): the first steps worth explaining with."""
        names = self.snapshot.node_ids["item"]
        chosen = self.ranker.anchors(self.liked[user].tolist(), rows, self.anchors_per_item)
        return {i: [names[a] for a in anchors] for i, anchors in zip(item_ids, chosen)}

    def _peers(self, user: int) -> list[str]:
        """The ``peers`` other users whose paths weigh most (:meth:`PathRanker.peers`)."""
        names = self.snapshot.node_ids["user"]
        return [names[v] for v in self.ranker.peers(user, self.peers)]

    def _diverse(
        self, ranked: list[tuple[float, int]], paths: list[GraphPath]
    ) -> list[tuple[float, int]]:
        """The ``paths_per_item`` paths to show, heaviest first: chosen as the heaviest path,
        then the heaviest path of each relation not chosen yet, then of each new (liked item,
        relation) pair, then the rest by weight (three near-identical "another user also liked
        it" paths tell a reader less than one of them and a director or genre path), and
        presented in weight order, so the printed weights and shares read downwards."""
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
        return sorted((ranked[t] for t in order[: self.paths_per_item]), key=lambda wj: -wj[0])


def _heaviest_per_aggregate(
    ranked: list[tuple[float, int]], paths: list[GraphPath]
) -> list[tuple[float, int]]:
    """``ranked`` ((weight, index in ``paths``), heaviest first) without the paths that stand
    for the same users as a heavier one (:meth:`GraphPath.aggregate_key`): the same reason
    through another peer, which would read as the same sentence."""
    seen: set[tuple] = set()
    kept = []
    for w, j in ranked:
        key = paths[j].aggregate_key()
        if key not in seen:
            seen.add(key)
            kept.append((w, j))
    return kept
