"""The service's request and response bodies (pydantic): what /docs shows and what is checked.

Responses are built from kgrec's own records by the ``of`` class methods; requests only bound
sizes and shapes, and the :class:`~kgrec.Recommender` checks ids and values (its errors become
problems, see :mod:`kgrec.service.problems`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from kgrec.explain.explanation import Explanation as KgrecExplanation
from kgrec.explain.explanation import Recommendation as KgrecRecommendation

#: The most items one request returns or names.
MAX_ITEMS = 1_000
#: The longest text a request may carry (characters).
MAX_TEXT = 10_000

Id = Annotated[str, Field(min_length=1, max_length=4_096, description="a node id of the graph")]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
FeedbackKind = Literal["like", "dislike", "rating", "watch"]


# -- responses ----------------------------------------------------------------------------------
class Node(BaseModel):
    label: str = Field(description="User, Item or Entity")
    id: str
    name: str | None


class Path(BaseModel):
    """A path from the user to the item that exists in the graph."""

    nodes: list[Node] = Field(description="user first, item last")
    relations: list[str] = Field(description="the relation between each node and the next")
    forward: list[bool] = Field(description="whether each relation points from the node before to the one after")
    weight: float = Field(description="the model's estimate of the part of the item's score flowing along it")
    share: float = Field(description="its part of the shown paths' positive weight, in [0, 1]")
    label: str = Field(description='"main reason" or "also"')
    sentence: str = Field(description="the path in words")
    support: int | None = Field(description="how many people a path through other users stands for")


class Explanation(BaseModel):
    sentence: str = Field(description="the main reason in words")
    paths: list[Path] = Field(description="heaviest first")

    @classmethod
    def of(cls, explanation: KgrecExplanation | None) -> "Explanation | None":
        if explanation is None:
            return None
        paths = [
            Path(
                nodes=[Node(label=n.label.value, id=n.id, name=n.name) for n in p.path.nodes],
                relations=list(p.path.relations),
                forward=list(p.path.forward),
                weight=p.weight,
                share=share,
                label=label,
                sentence=p.sentence,
                support=p.path.support,
            )
            for p, share, label in zip(explanation.paths, explanation.shares, explanation.labels)
        ]
        return cls(sentence=explanation.sentence, paths=paths)


class Item(BaseModel):
    """A recommended item."""

    rank: int
    item_id: str
    name: str | None
    score: float = Field(description="the calibrated probability that the user likes it (sigmoid(logit) without calibration)")
    logit: float = Field(description="the model's raw logit")
    explanation: Explanation | None = Field(description="null when not asked for")
    reasons: list[str] = Field(description="what a conversation's request asked for that the item has")

    @classmethod
    def of(cls, rec: KgrecRecommendation) -> "Item":
        return cls(
            rank=rec.rank,
            item_id=rec.item_id,
            name=rec.name,
            score=rec.score,
            logit=rec.logit,
            explanation=Explanation.of(rec.explanation),
            reasons=list(rec.reasons),
        )


class Recommendations(BaseModel):
    user_id: str
    items: list[Item]

    @classmethod
    def of(cls, user_id: str, recs: Sequence[KgrecRecommendation]) -> "Recommendations":
        return cls(user_id=user_id, items=[Item.of(r) for r in recs])


class ItemExplanation(BaseModel):
    user_id: str
    item_id: str
    name: str | None
    score: float
    logit: float
    explanation: Explanation


class Created(BaseModel):
    label: Literal["User", "Item"]
    id: str


class Feedback(BaseModel):
    """A feedback event as stored."""

    user_id: str
    item_id: str
    kind: FeedbackKind
    value: float | None
    timestamp: int = Field(description="seconds since the epoch")
    source: str


class ConversationTurn(BaseModel):
    conversation_id: str
    turn: int = Field(description="1 for the conversation's first turn (a new one on this worker)")
    reply: str = Field(description="a short answer to show the person")
    unmatched: list[str] = Field(description="phrases that named nothing in the graph")
    items: list[Item]


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    store: Literal["memory", "neo4j"]
    model_loaded: bool
    detail: str | None = Field(None, description="why the store cannot be reached")


# -- requests -----------------------------------------------------------------------------------
class NewUser(BaseModel):
    """A user the model never saw, embedded from their text and liked items (no retraining)."""

    id: Id
    text: Text | None = Field(None, description="attributes in words, e.g. 'a 25-year-old engineer'")
    liked: list[Id] = Field([], max_length=MAX_ITEMS, description="item ids, written as train interactions")


class Link(BaseModel):
    relation: str = Field(min_length=1, max_length=64, description="an item -> entity relation the model knows")
    entity: Id


class NewItem(BaseModel):
    """An item the model never saw, embedded from its text and links (no retraining)."""

    id: Id
    text: Text
    name: Text | None = None
    properties: dict[str, str | int | float | bool] = Field({}, max_length=100)
    links: list[Link] = Field([], max_length=MAX_ITEMS)


class FeedbackEvent(BaseModel):
    user_id: Id
    item_id: Id
    kind: FeedbackKind
    value: float | None = Field(None, description="the rating (kind=rating) or watched share (kind=watch)")
    timestamp: int | None = Field(None, ge=0, description="seconds since the epoch (default: now)")


class TurnRequest(BaseModel):
    text: Text = Field(description="the person's request in English, e.g. 'a 90s thriller with Kevin Spacey'")
    user_id: Id | None = Field(None, description="a known user, for a new conversation; omit for an anonymous person")
    k: int = Field(10, ge=1, le=MAX_ITEMS)
    explain: bool = True
