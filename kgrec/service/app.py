"""The FastAPI application: :func:`create_app` (OpenAPI docs at ``/docs``).

Endpoints: ``GET /health``; reads ``GET /users/{id}/recommendations``,
``GET /users/{id}/explanations/{item}``, ``POST /conversations/{id}/turns`` (keyed only with
``reads_keyed``); writes ``POST /users``, ``POST /items``, ``POST /feedback`` (always keyed,
``X-API-Key``). Errors are problem+json (:mod:`kgrec.service.problems`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI, Path, Query
from fastapi.responses import JSONResponse

from kgrec import __version__
from kgrec.errors import StoreUnavailableError
from kgrec.service import models, problems
from kgrec.service.auth import KeyCheck
from kgrec.service.serving import Serving
from kgrec.service.settings import Settings

DESCRIPTION = """Explained recommendations from a knowledge graph and a model trained on it.
Writes (new users and items, feedback) need an API key in the `X-API-Key` header; errors are
`application/problem+json` (RFC 9457) titled with kgrec's error names."""

UserId = Annotated[str, Path(min_length=1, max_length=4_096, description="a user id of the graph")]
ItemId = Annotated[str, Path(min_length=1, max_length=4_096, description="an item id of the graph")]
PROBLEMS = {
    status: {"description": what, "content": {problems.MEDIA_TYPE: {}}}
    for status, what in (
        (401, "missing or wrong API key"),
        (404, "UnknownIdError: an unknown user or item"),
        (422, "InvalidValueError or InvalidNameError: a bad value"),
        (503, "StoreUnavailableError: the graph store cannot be reached"),
    )
}


def create_app(settings: Settings) -> FastAPI:
    """The service for ``settings``; the model is loaded when the application starts (see
    :class:`~kgrec.service.serving.Serving`), the store closed when it stops."""
    serving = Serving(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        serving.start()
        try:
            yield
        finally:
            serving.close()

    app = FastAPI(title="kgrec", version=__version__, description=DESCRIPTION, lifespan=lifespan, responses=PROBLEMS)
    app.state.serving = serving
    problems.install(app)
    keyed = [Depends(KeyCheck(settings.api_keys))]
    reads = keyed if settings.reads_keyed else []

    @app.get("/health", response_model=models.Health, responses={503: {"model": models.Health}})
    def health() -> JSONResponse:
        """Whether the graph store is reachable (and the model loaded): 200 or 503."""
        try:
            with serving.use() as rec:
                rec.store.get_nodes("Item", rec.snapshot.node_ids["item"][:1])
        except StoreUnavailableError as exc:
            body = models.Health(status="unavailable", store=settings.store, model_loaded=serving.loaded, detail=str(exc))
            return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": str(problems.RETRY_AFTER)})
        return JSONResponse(models.Health(status="ok", store=settings.store, model_loaded=True).model_dump())

    @app.get("/users/{user_id}/recommendations", dependencies=reads)
    def recommendations(
        user_id: UserId,
        k: Annotated[int, Query(ge=1, le=models.MAX_ITEMS)] = 10,
        explain: bool = True,
    ) -> models.Recommendations:
        """The user's top-k items, best first, leaving out items they interacted with; with
        explain, each with its paths in the graph."""
        with serving.use() as rec:
            return models.Recommendations.of(user_id, rec.recommend(user_id, k=k, explain=explain))

    @app.get("/users/{user_id}/explanations/{item_id}", dependencies=reads)
    def explanation(user_id: UserId, item_id: ItemId) -> models.ItemExplanation:
        """Why any item, recommended or not, would suit the user."""
        with serving.use() as rec:
            explained = rec.explain(user_id, item_id)
            row = int(rec.snapshot.index_of("item", [item_id])[0])
            logits = rec.logits([user_id])
            score = float(rec.scores(logits, rec.unseen([user_id]))[0, row])
            return models.ItemExplanation(
                user_id=user_id,
                item_id=item_id,
                name=rec.items[item_id].name,
                score=score,
                logit=float(logits[0, row]),
                explanation=models.Explanation.of(explained),
            )

    @app.post("/users", status_code=201, dependencies=keyed)
    def add_user(user: models.NewUser) -> models.Created:
        """Add a user the model never saw (cold start, no retraining): recommendable at once."""
        with serving.use() as rec:
            rec.add_user(user.id, text=user.text, liked=user.liked)
        return models.Created(label="User", id=user.id)

    @app.post("/items", status_code=201, dependencies=keyed)
    def add_item(item: models.NewItem) -> models.Created:
        """Add an item the model never saw (cold start, no retraining): recommendable at once."""
        with serving.use() as rec:
            rec.add_item(
                item.id,
                text=item.text,
                name=item.name,
                properties=item.properties,
                links=[(link.relation, link.entity) for link in item.links],
            )
        return models.Created(label="Item", id=item.id)

    @app.post("/feedback", status_code=201, dependencies=keyed)
    def feedback(event: models.FeedbackEvent) -> models.Feedback:
        """Record a like, dislike, rating or watch: the user's next recommendations reflect it."""
        with serving.use() as rec:
            stored = rec.feedback(
                event.user_id, event.item_id, event.kind, value=event.value, timestamp=event.timestamp, source="api"
            )
        return models.Feedback(**dataclasses.asdict(stored))

    @app.post("/conversations/{conversation_id}/turns", dependencies=reads)
    def conversation_turn(
        conversation_id: Annotated[str, Path(min_length=1, max_length=128)], request: models.TurnRequest
    ) -> models.ConversationTurn:
        """One turn of a conversation in words, kept in this worker's memory under
        conversation_id (a new conversation when the id is new here: turn 1)."""
        with serving.use() as rec:
            turn, number = serving.say(rec, conversation_id, request.user_id, request.text, request.k, request.explain)
        return models.ConversationTurn(
            conversation_id=conversation_id,
            turn=number,
            reply=turn.reply,
            unmatched=list(turn.request.unmatched),
            items=[models.Item.of(r) for r in turn.recommendations],
        )

    return app
