"""kgrec's tools for language-model agents, served over the Model Context Protocol.

:func:`build_server` wraps a :class:`~kgrec.Recommender` in an ``MCPServer`` of the official
``mcp`` SDK (mcp 2.x; FastMCP in 1.x) with five tools, their JSON schemas generated from the type
hints and their results structured JSON (each result's model is published as the tool's output
schema):

- ``recommend(user_id, k, explain)``: a known user's top items, with scores and explanation paths;
- ``explain(user_id, item_id)``: why any item would suit a user: score and paths in the graph;
- ``search_entities(query, limit)``: the items and entities a phrase names (the
  :class:`~kgrec.conversation.EntityLinker`'s tiers), to find ids for the other tools;
- ``similar_items(item_id, k)``: the items nearest to an item by the model's item embeddings;
- ``conversation_turn(text, session_id, user_id, k)``: one turn of a
  :class:`~kgrec.conversation.Conversation` kept by the server under a session id.

A kgrec error (an unknown id, a bad value) becomes a tool error whose text is the error's
message; the server keeps serving. Tools run one at a time (the SDK runs each call on a worker
thread; a lock keeps the recommender and the conversations single-threaded). Nothing is written
to the store. Needs the ``mcp`` extra (``pip install kgrec[mcp]``): ``import kgrec`` never
imports this module.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from collections import OrderedDict
from typing import Annotated, Any, Callable, TypeVar

import torch
import torch.nn.functional as F
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from kgrec import __version__
from kgrec.checks import instance, int_in_range
from kgrec.conversation import Conversation
from kgrec.conversation.conversation import default_parser
from kgrec.conversation.request import MENTION_FIELDS, Mention, Request
from kgrec.errors import InvalidValueError, KgrecError, shown
from kgrec.explain.explanation import ExplainedPath, Explanation, Recommendation
from kgrec.recommender import Recommender

log = logging.getLogger(__name__)

#: The most items or matches one tool call returns.
MAX_RESULTS = 100
#: The conversations a server keeps by default; beyond it the least recently used is dropped.
MAX_SESSIONS = 1_000

INSTRUCTIONS = """Recommendations from a knowledge graph (users, items, and entities such as
genres and people) and a model trained on it. Find item or entity ids with search_entities;
recommend and explain need a known user id; conversation_turn takes requests in English
("a thriller with Kevin Spacey", "no horror", "more like the second one") and keeps what was
said under the session_id it returns: pass it back for the next turn."""


# -- results ------------------------------------------------------------------------------------
class PathStep(BaseModel):
    """A path from the user to the item that exists in the graph."""

    nodes: list[str] = Field(description="the nodes' names (their ids when unnamed), user first, item last")
    relations: list[str] = Field(description="the relation between each node and the next")
    weight: float = Field(description="the model's estimate of how much of the item's score flows along the path")
    sentence: str = Field(description="the path in words")


class ItemResult(BaseModel):
    """A recommended item."""

    rank: int
    item_id: str
    name: str | None
    score: float = Field(description="the model's probability that the person likes the item")
    logit: float = Field(description="the model's logit; compare items by it")
    sentence: str | None = Field(description="the explanation's first sentence; null when not explained")
    paths: list[PathStep] = Field(description="explanation paths, heaviest first")
    reasons: list[str] = Field(description="what a conversation's request asked for that the item has")


class Recommendations(BaseModel):
    user_id: str
    items: list[ItemResult]


class ItemExplanation(BaseModel):
    user_id: str
    item_id: str
    name: str | None
    score: float
    logit: float
    sentence: str
    paths: list[PathStep]


class Match(BaseModel):
    """A node of the graph that a phrase names."""

    label: str = Field(description="Item or Entity")
    id: str
    name: str
    how: str = Field(description="exact, alias, normalized, fuzzy (a misspelling) or meaning")
    score: float = Field(description="1.0 for a name match, the spelling similarity for a fuzzy one")
    phrase: str = Field(description="the words that named the node")


class EntityMatches(BaseModel):
    query: str
    matches: list[Match]


class SimilarItem(BaseModel):
    rank: int
    item_id: str
    name: str | None
    similarity: float = Field(description="cosine of the model's item embeddings, in [-1, 1]")


class SimilarItems(BaseModel):
    item_id: str
    name: str | None
    items: list[SimilarItem]


class ShownReference(BaseModel):
    """What the request said of an item of the list shown last ("the second one")."""

    position: int
    item_id: str
    stance: str = Field(description="liked, disliked, seen or more_like")


class ParsedRequest(BaseModel):
    """What the turn's text was understood to ask for; every match is a node of the graph."""

    liked: list[Match]
    disliked: list[Match]
    wanted: list[Match]
    excluded: list[Match]
    seen: list[Match]
    first_year: int | None
    last_year: int | None
    refers_to: list[ShownReference]
    unmatched: list[str] = Field(description="phrases that named nothing in the graph")
    conflicts: list[str] = Field(description="contradictions in the request, in words")


class ConversationTurn(BaseModel):
    session_id: str = Field(description="pass it back to continue this conversation")
    reply: str = Field(description="a short answer to show the person")
    request: ParsedRequest
    items: list[ItemResult]


def _path(explained: ExplainedPath) -> PathStep:
    return PathStep(
        nodes=[node.name or node.id for node in explained.path.nodes],
        relations=list(explained.path.relations),
        weight=explained.weight,
        sentence=explained.sentence,
    )


def _paths(explanation: Explanation | None) -> list[PathStep]:
    return [] if explanation is None else [_path(p) for p in explanation.paths]


def _item(rec: Recommendation) -> ItemResult:
    return ItemResult(
        rank=rec.rank,
        item_id=rec.item_id,
        name=rec.name,
        score=rec.score,
        logit=rec.logit,
        sentence=None if rec.explanation is None else rec.explanation.sentence,
        paths=_paths(rec.explanation),
        reasons=list(rec.reasons),
    )


def _match(mention: Mention) -> Match:
    return Match(
        label=mention.label.value,
        id=mention.id,
        name=mention.name,
        how=mention.how,
        score=mention.score,
        phrase=mention.phrase,
    )


def _request(request: Request) -> ParsedRequest:
    first, last = request.years
    return ParsedRequest(
        **{name: [_match(m) for m in getattr(request, name)] for name in MENTION_FIELDS},
        first_year=first,
        last_year=last,
        refers_to=[ShownReference(position=r.position, item_id=r.item, stance=r.stance) for r in request.refers_to],
        unmatched=list(request.unmatched),
        conflicts=list(request.conflicts),
    )


# -- tools --------------------------------------------------------------------------------------
UserId = Annotated[str, Field(description="a user id of the graph")]
ItemId = Annotated[str, Field(description="an item id of the graph (search_entities finds them by name)")]
Count = Annotated[int, Field(ge=1, le=MAX_RESULTS, description="how many results")]

_Tool = TypeVar("_Tool", bound=Callable[..., Any])


def _serialized(method: _Tool) -> _Tool:
    """Run the tool under the tools' lock; a kgrec error becomes a tool error with its message."""

    @functools.wraps(method)
    def run(self: "AgentTools", *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            try:
                return method(self, *args, **kwargs)
            except KgrecError as exc:  # the SDK logs it and answers is_error with the message
                raise ToolError(str(exc)) from exc

    return run  # type: ignore[return-value]


class AgentTools:
    """The tools over ``recommender``; ``max_sessions`` conversations are kept, the least
    recently used dropped first. Each public method is one tool; its docstring is the
    description an agent reads."""

    def __init__(self, recommender: Recommender, *, max_sessions: int = MAX_SESSIONS) -> None:
        instance(recommender, Recommender, "recommender")
        self.recommender = recommender
        self.max_sessions = int_in_range(max_sessions, "max_sessions")
        self._sessions: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def tools(self) -> list[Callable[..., BaseModel]]:
        return [self.recommend, self.explain, self.search_entities, self.similar_items, self.conversation_turn]

    @_serialized
    def recommend(
        self,
        user_id: UserId,
        k: Count = 10,
        explain: Annotated[bool, Field(description="add each item's explanation paths")] = True,
    ) -> Recommendations:
        """The top-k items for a known user, best first, leaving out items they already
        interacted with; with explain, each item's reasons as paths in the graph from the
        user to the item."""
        recs = self.recommender.recommend(user_id, k=k, explain=explain)
        return Recommendations(user_id=user_id, items=[_item(r) for r in recs])

    @_serialized
    def explain(self, user_id: UserId, item_id: ItemId) -> ItemExplanation:
        """Why any item (recommended or not) would suit a user: the model's score and the
        paths in the graph that link the user to the item, heaviest first."""
        rec = self.recommender
        explanation = rec.explain(user_id, item_id)
        row = int(rec.snapshot.index_of("item", [item_id])[0])
        logits = rec.logits([user_id])
        score = float(rec.scores(logits, rec.unseen([user_id]))[0, row])
        logit = float(logits[0, row])
        return ItemExplanation(
            user_id=user_id,
            item_id=item_id,
            name=rec.items[item_id].name,
            score=score,
            logit=logit,
            sentence=explanation.sentence,
            paths=_paths(explanation),
        )

    @_serialized
    def search_entities(
        self,
        query: Annotated[str, Field(min_length=1, max_length=200, description="a name, as a person would write it")],
        limit: Count = 10,
    ) -> EntityMatches:
        """The items (films) and entities (genres, people, ...) a name refers to, best match
        first: exact names, genre words ("scary"), names with case, articles and years
        ignored, then misspellings. Use it to find the ids other tools take."""
        linker = default_parser(self.recommender).linker
        return EntityMatches(query=query, matches=[_match(m) for m in linker.search(query, limit)])

    @_serialized
    def similar_items(self, item_id: ItemId, k: Count = 10) -> SimilarItems:
        """The k items most similar to an item by the model's item embeddings (cosine),
        most similar first, the item itself left out."""
        rec = self.recommender
        row = int(rec.snapshot.index_of("item", [item_id])[0])
        embeddings = F.normalize(rec.node_embeddings["item"], dim=-1)
        cosines = embeddings @ embeddings[row]
        cosines[row] = -float("inf")
        top = torch.topk(cosines, min(k, cosines.numel() - 1))
        ids = rec.snapshot.node_ids["item"]
        items = [
            SimilarItem(rank=rank, item_id=ids[i], name=rec.items[ids[i]].name, similarity=c)
            for rank, (i, c) in enumerate(zip(top.indices.tolist(), top.values.tolist()), start=1)
        ]
        return SimilarItems(item_id=item_id, name=rec.items[item_id].name, items=items)

    @_serialized
    def conversation_turn(
        self,
        text: Annotated[str, Field(description="the person's request, in English")],
        session_id: Annotated[
            str | None, Field(description="the session_id of an earlier turn; omit it to start a conversation")
        ] = None,
        user_id: Annotated[
            str | None,
            Field(description="a known user, to personalize a new conversation; omit it for an anonymous person"),
        ] = None,
        k: Count = 10,
    ) -> ConversationTurn:
        """One turn of a conversation: the request is understood against the graph (liked and
        disliked films, wanted and excluded genres or people, years, "the second one"),
        added to what earlier turns of the session said, and answered with items never shown
        before in the session, each with the reasons it fits."""
        conversation = self._conversation(session_id, user_id)
        turn = conversation.say(text, k=k)
        if session_id is None:  # kept only once its first turn was answered
            session_id = self._keep(conversation)
        return ConversationTurn(
            session_id=session_id,
            reply=turn.reply,
            request=_request(turn.request),
            items=[_item(r) for r in turn.recommendations],
        )

    def _conversation(self, session_id: str | None, user_id: str | None) -> Conversation:
        """The conversation of ``session_id``, marked most recently used; a new one for
        ``user_id`` when ``session_id`` is None."""
        if session_id is None:
            return Conversation(self.recommender, user_id)
        conversation = self._sessions.get(session_id)
        if conversation is None:
            raise InvalidValueError(
                f"unknown or expired session_id {shown(session_id)}: omit session_id to start a new conversation"
            )
        if user_id is not None and user_id != conversation.user_id:
            raise InvalidValueError(
                f"session {shown(session_id)} is the conversation of user {shown(conversation.user_id)}, "
                f"not {shown(user_id)}: omit user_id, or omit session_id to start a new conversation"
            )
        self._sessions.move_to_end(session_id)
        return conversation

    def _keep(self, conversation: Conversation) -> str:
        """Keep ``conversation`` under a new session id (dropping the least recently used
        beyond :attr:`max_sessions`) and return the id."""
        session_id = uuid.uuid4().hex
        self._sessions[session_id] = conversation
        while len(self._sessions) > self.max_sessions:
            dropped, _ = self._sessions.popitem(last=False)
            log.debug("dropped the least recently used conversation %s", dropped)
        return session_id


def build_server(recommender: Recommender, *, max_sessions: int = MAX_SESSIONS) -> MCPServer:
    """An MCP server named ``kgrec`` with the :class:`AgentTools` of ``recommender`` (all
    read-only: nothing is written to the store). Serve it with ``server.run()`` (stdio) or
    ``server.run("streamable-http", host=..., port=...)``; test it in-process with
    ``mcp.Client(server)``."""
    tools = AgentTools(recommender, max_sessions=max_sessions)
    server = MCPServer("kgrec", version=__version__, instructions=INSTRUCTIONS)
    for tool in tools.tools:
        server.add_tool(tool, annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    return server
