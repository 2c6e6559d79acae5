"""A conversation: turns of English requests answered through the graph and the model.

Each turn parses the text into a grounded :class:`~kgrec.conversation.request.Request`, folds it
into the conversation's :class:`ConversationState`, lets the graph narrow the catalogue
(:meth:`~kgrec.graph.store.GraphStore.request_candidates`: items linked to what was asked for,
constraints and exclusions applied in the store) and ranks the candidates by

.. math::
    s_j = \\underbrace{\\textstyle\\sum_{e \\in W} h(e, j) + \\lambda_L\\, |L \\cap N_j|}_{\\text{graph match}}
        + \\mu \\cos(\\mathbf{q}, \\mathbf{v}_j) + \\lambda_P\\, \\tilde{g}_j

where :math:`W` are the wanted entities (:math:`h` = 1 for a direct link, 1/2 for two hops),
:math:`L` the liked items an item shares a graph neighbour with, :math:`\\mathbf{q}` the request
vector (the mean of the model's final embeddings of the request's entities and liked items),
:math:`\\mathbf{v}_j` the item's embedding, and :math:`\\tilde{g}_j` the person's model logit,
standardized over the catalogue: a known user's, an anonymous person's folded in from the items
they said they liked (:meth:`~kgrec.Recommender.personal_logits`), or the mean user's. The graph
match dominates (one more matched fact outweighs the other terms in almost every case); the
request vector and the profile order items that match equally. :data:`PERSONAL_WEIGHT` and
:data:`SIMILARITY_WEIGHT` were picked on valid pairs of ``benchmarks/conversation.py``.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from kgrec.checks import flag, instance, int_in_range
from kgrec.conversation.linking import EntityLinker
from kgrec.conversation.replies import ItemLinks, item_reasons, reply
from kgrec.conversation.request import Mention, Request
from kgrec.conversation.understanding import RequestParser
from kgrec.errors import InvalidValueError, shown
from kgrec.explain.explanation import Recommendation
from kgrec.graph.candidate_query import CandidateQuery, RequestCandidate
from kgrec.graph.schema import NodeLabel
from kgrec.recommender import Recommender

log = logging.getLogger(__name__)

#: :math:`\lambda_P`, the weight of the person's standardized model logit.
PERSONAL_WEIGHT = 0.3
#: :math:`\mu`, the weight of the request vector's cosine with the item.
SIMILARITY_WEIGHT = 0.3
#: :math:`\lambda_L`, the weight of each liked item a candidate shares a graph neighbour with.
LIKED_ITEM_WEIGHT = 0.5
#: :math:`h`: the weight of a wanted entity matched in one or two hops.
HOP_WEIGHT = {1: 1.0, 2: 0.5}

_SERVED: "weakref.WeakKeyDictionary[Recommender, tuple[object, RequestParser, ItemLinks]]" = (
    weakref.WeakKeyDictionary()
)


def _served(recommender: Recommender) -> tuple[RequestParser, ItemLinks]:
    """The default parser and the item links of ``recommender``'s graph, built once per served
    snapshot and shared by its conversations."""
    cached = _SERVED.get(recommender)
    if cached is None or cached[0] is not recommender.snapshot:
        years = [y for y in item_years(recommender).values()]
        parser = RequestParser(
            EntityLinker(recommender.snapshot), recent_since=max(years) - 4 if years else None
        )
        cached = (recommender.snapshot, parser, ItemLinks(recommender.snapshot))
        _SERVED[recommender] = cached
    return cached[1], cached[2]


def default_parser(recommender: Recommender) -> RequestParser:
    """The rule-based parser over ``recommender``'s graph ("recent" means the catalogue's last
    five years)."""
    return _served(recommender)[0]


def item_years(recommender: Recommender) -> dict[str, int]:
    """``{item id: year}`` of the items with an int ``year`` property."""
    return {
        item_id: record.properties["year"]
        for item_id, record in recommender.items.items()
        if isinstance(record.properties.get("year"), int)
    }


@dataclass
class ConversationState:
    """What a conversation has gathered so far; later turns override earlier ones (asking for
    something removes it from the exclusions and the reverse).

    ``liked``: items the person liked or wants more like (ids -> names); ``wanted`` and
    ``excluded``: entities asked for and against (ids -> mentions); ``avoided``: items never to
    show again (disliked, seen, rejected, or excluded by name); ``years``: the release years
    asked for; ``shown``: every item shown, ``last_shown`` the last list, in order.
    """

    liked: dict[str, str] = field(default_factory=dict)
    wanted: dict[str, Mention] = field(default_factory=dict)
    excluded: dict[str, Mention] = field(default_factory=dict)
    avoided: set[str] = field(default_factory=set)
    years: tuple[int | None, int | None] = (None, None)
    shown: set[str] = field(default_factory=set)
    last_shown: list[str] = field(default_factory=list)

    def like_item(self, item_id: str, name: str) -> None:
        self.liked[item_id] = name
        self.avoided.add(item_id)

    def avoid_item(self, item_id: str) -> None:
        self.liked.pop(item_id, None)
        self.avoided.add(item_id)

    def want(self, mention: Mention) -> None:
        self.excluded.pop(mention.id, None)
        self.wanted[mention.id] = mention

    def exclude(self, mention: Mention) -> None:
        self.wanted.pop(mention.id, None)
        self.excluded[mention.id] = mention

    def update(self, request: Request, name_of: Callable[[str], str]) -> None:
        """Fold one turn's request in (``name_of``: an item's display name)."""
        for name, mention in request.mentions():
            is_item = mention.label is NodeLabel.ITEM
            if name == "liked" and is_item:
                self.like_item(mention.id, mention.name)
            elif name in ("liked", "wanted"):
                self.want(mention)
            elif is_item:  # disliked, excluded or seen items
                self.avoid_item(mention.id)
            elif name in ("disliked", "excluded"):
                self.exclude(mention)
        for reference in request.refers_to:
            if reference.stance in ("liked", "more_like"):
                self.like_item(reference.item, name_of(reference.item))
            else:
                self.avoid_item(reference.item)
        if request.years != (None, None):
            self.years = request.years


@dataclass(frozen=True)
class Turn:
    """One answered turn: the parsed ``request``, the ranked ``recommendations`` (each with the
    request's reasons and, for a known user, the model's explanation paths) and a short
    ``reply`` to show the person."""

    request: Request
    recommendations: tuple[Recommendation, ...]
    reply: str


class Conversation:
    """Several turns of natural-language requests to ``recommender`` for one person.

    ``user_id``: a known user (personalized results, their seen items left out) or ``None``
    for an anonymous person, profiled from the items they say they liked (the cold-start
    fold-in). ``parser``: anything with ``parse(text, shown) -> Request`` grounded in the same
    graph, such as a :class:`~kgrec.conversation.language_model.LanguageModelParser`; default
    :func:`default_parser`. A turn reads the store and never writes to it.
    """

    def __init__(
        self,
        recommender: Recommender,
        user_id: str | None = None,
        *,
        parser: object | None = None,
        personal_weight: float = PERSONAL_WEIGHT,
        similarity_weight: float = SIMILARITY_WEIGHT,
    ) -> None:
        instance(recommender, Recommender, "recommender")
        if user_id is not None:
            if not isinstance(user_id, str):
                raise InvalidValueError(f"user_id must be a string or None, got {shown(user_id)}")
            recommender.snapshot.index_of("user", [user_id])  # UnknownIdError for an unknown user
        if parser is not None and not callable(getattr(parser, "parse", None)):
            raise InvalidValueError(f"parser must have a parse(text, shown) method, got {type(parser).__name__}")
        for value, what in ((personal_weight, "personal_weight"), (similarity_weight, "similarity_weight")):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
                raise InvalidValueError(f"{what} must be a finite number >= 0, got {shown(value)}")
        self.recommender = recommender
        self.user_id = user_id
        self.parser = parser or default_parser(recommender)
        self.personal_weight = float(personal_weight)
        self.similarity_weight = float(similarity_weight)
        self.state = ConversationState()
        self._known = set(recommender.seen_items(user_id)) if user_id is not None else set()
        self._profile: tuple[tuple[str, ...], torch.Tensor] | None = None

    # -- the person's side ----------------------------------------------------------------------
    def say(self, text: str, k: int = 10, explain: bool = True) -> Turn:
        """Answer ``text``: parse it (an :class:`InvalidValueError` for text that is not a
        string, empty or too long, with the state unchanged), update the state and rank."""
        int_in_range(k, "k")
        flag(explain, "explain")
        request = self.parser.parse(text, tuple(self.state.last_shown))
        self.state.update(request, self._name)
        ranked, candidates, matched = self._rank(k)
        recommendations = self._recommendations(ranked, candidates, explain)
        self.state.last_shown = [r.item_id for r in recommendations]
        self.state.shown.update(self.state.last_shown)
        links = _served(self.recommender)[1]
        return Turn(request, tuple(recommendations), reply(request, self.state, len(recommendations), matched, links))

    def reject(self, item_ids: Sequence[str]) -> None:
        """"Not these": the items are never shown again."""
        for item_id in self._items(item_ids):
            self.state.avoid_item(item_id)

    def feedback(self, item_id: str, liked: bool) -> None:
        """The person liked (``True``: it joins their profile) or disliked an item; either way
        it is not shown again."""
        flag(liked, "liked")
        [item_id] = self._items([item_id])
        if liked:
            self.state.like_item(item_id, self._name(item_id))
        else:
            self.state.avoid_item(item_id)

    def _name(self, item_id: str) -> str:
        return self.recommender.items[item_id].name or item_id

    def _items(self, item_ids: Sequence[str]) -> list[str]:
        if isinstance(item_ids, (str, bytes)) or not all(isinstance(i, str) for i in item_ids):
            raise InvalidValueError(f"item ids must be a sequence of id strings, got {shown(item_ids)}")
        self.recommender.snapshot.index_of("item", list(item_ids))  # UnknownIdError
        return list(item_ids)

    # -- ranking --------------------------------------------------------------------------------
    def _query(self, matching: bool) -> CandidateQuery:
        state = self.state
        return CandidateQuery.checked(
            entities=list(state.wanted) if matching else (),
            items=list(state.liked) if matching else (),
            excluded_entities=list(state.excluded),
            excluded_items=sorted(state.avoided | state.shown | self._known),
            years=state.years,
            relations=self.recommender.snapshot.relations or None,  # the fast path on Neo4j
            limit=self.recommender.snapshot.num_nodes("item"),
        )

    def _logits(self) -> torch.Tensor:
        """``[I]`` the person's model logits (:meth:`~kgrec.Recommender.personal_logits`; an
        anonymous profile is folded in again only when the liked items changed)."""
        rec = self.recommender
        if self.user_id is not None:
            return rec.personal_logits(self.user_id)
        liked = tuple(self.state.liked)
        if self._profile is None or self._profile[0] != liked:
            self._profile = (liked, rec.personal_logits(liked=liked))
        return self._profile[1]

    def _scores(self) -> torch.Tensor:
        """``[I]`` :attr:`~kgrec.explain.explanation.Recommendation.score` of every item from the
        person's model logits (:meth:`~kgrec.Recommender.scores`), over the items they have not
        seen (a known user's interactions; an anonymous person's liked items)."""
        rec = self.recommender
        logits = self._logits()
        if self.user_id is not None:
            unseen = rec.unseen([self.user_id])[0]
        else:
            unseen = torch.ones_like(logits, dtype=torch.bool)
            unseen[rec.snapshot.index_of("item", list(self.state.liked))] = False
        return rec.scores(logits.unsqueeze(0), unseen.unsqueeze(0))[0]

    def _request_vector(self) -> torch.Tensor | None:
        """``[d]`` the mean final embedding of the wanted entities and liked items, or ``None``."""
        rec = self.recommender
        parts = []
        if self.state.wanted:
            parts.append(rec.node_embeddings["entity"][rec.snapshot.index_of("entity", list(self.state.wanted))])
        if self.state.liked:
            parts.append(rec.node_embeddings["item"][rec.snapshot.index_of("item", list(self.state.liked))])
        return F.normalize(torch.cat(parts).mean(0), dim=0) if parts else None

    def _rank(self, k: int) -> tuple[list[tuple[int, float]], dict[str, RequestCandidate], bool]:
        """The top ``k`` ``(item row, model logit)``, best first, the graph's matching candidates
        by item id, and whether there were any."""
        rec, store = self.recommender, self.recommender.store
        matching = self._query(True)
        candidates = store.request_candidates(matching) if matching.matching else []
        by_id = {c.item: c for c in candidates}
        if len(candidates) < k:  # too few matches: the rest of what passes the constraints
            candidates = candidates + [
                c for c in store.request_candidates(self._query(False)) if c.item not in by_id
            ]
        if not candidates:
            return [], by_id, False
        rows = rec.snapshot.index_of("item", [c.item for c in candidates])
        match = torch.tensor([
            sum(HOP_WEIGHT.get(h, 0.0) for _, h in c.entities) + LIKED_ITEM_WEIGHT * len(c.items)
            for c in candidates
        ])
        logits = self._logits()
        personal = (logits - logits.mean()) / logits.std().clamp(min=1e-6)
        score = match + self.personal_weight * personal[rows]
        q = self._request_vector()
        if q is not None:
            items = F.normalize(rec.node_embeddings["item"][rows], dim=-1)
            score = score + self.similarity_weight * (items @ q)
        top = torch.topk(score, min(k, score.numel()))
        chosen = [(int(rows[i]), float(logits[rows[i]])) for i in top.indices.tolist()]
        return chosen, by_id, bool(by_id)

    def _recommendations(
        self, ranked: list[tuple[int, float]], candidates: dict[str, RequestCandidate], explain: bool
    ) -> list[Recommendation]:
        rec = self.recommender
        ids = [rec.snapshot.node_ids["item"][row] for row, _ in ranked]
        explanations = rec.explain_items(self.user_id, ids) if explain and self.user_id and ids else {}
        links = _served(rec)[1]
        scores = self._scores()
        out = []
        for rank, (item_id, (row, logit)) in enumerate(zip(ids, ranked), start=1):
            record = rec.items[item_id]
            out.append(Recommendation(
                rank=rank,
                item_id=item_id,
                name=record.name,
                text=record.text,
                score=float(scores[row]),
                logit=logit,
                explanation=explanations.get(item_id),
                reasons=item_reasons(candidates.get(item_id), self.state, record.properties.get("year"), links),
            ))
        return out
