"""Errors as RFC 9457 problem details (``application/problem+json``).

A kgrec error becomes a problem whose ``title`` is the error's class name and whose ``type`` is
``urn:kgrec:error:<class name>``; ``detail`` is its message (kgrec messages name the bad value
and never echo credentials). The status says whose fault it is: :data:`STATUS`. A request that
fails pydantic's validation is an ``InvalidValueError`` (422) listing each problem in
``errors``; an unexpected exception is a bare 500 (logged, never shown).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from kgrec.errors import (
    InvalidNameError,
    InvalidValueError,
    KgrecError,
    StoreUnavailableError,
    UnknownIdError,
)

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
#: The HTTP status of each kgrec error class; a subclass takes its nearest listed base's, and
#: any other kgrec error is a 500.
STATUS: dict[type[KgrecError], int] = {
    UnknownIdError: 404,
    InvalidValueError: 422,
    InvalidNameError: 422,
    StoreUnavailableError: 503,
}
#: Seconds a client should wait before retrying a 503 (the ``Retry-After`` header).
RETRY_AFTER = 1


class Unauthorized(Exception):
    """A request without a valid API key (401)."""


def problem(
    status: int, title: str, detail: str | None, request: Request, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """A problem+json response; ``title`` is an error class name, also used in ``type``."""
    body = {"type": f"urn:kgrec:error:{title}", "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    body["instance"] = request.url.path
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def status_of(error: KgrecError) -> int:
    """The HTTP status of ``error`` (:data:`STATUS`)."""
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500


async def _kgrec_error(request: Request, error: KgrecError) -> JSONResponse:
    status = status_of(error)
    if status >= 500:
        log.warning("%s %s: %s: %s", request.method, request.url.path, type(error).__name__, error)
    headers = {"Retry-After": str(RETRY_AFTER)} if status == 503 else None
    return problem(status, type(error).__name__, str(error), request, headers)


async def _invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    errors = [
        {"where": ".".join(str(part) for part in e["loc"]), "problem": e["msg"]} for e in error.errors()
    ]
    detail = "; ".join(f"{e['where']}: {e['problem']}" for e in errors)
    return problem(422, InvalidValueError.__name__, detail, request, errors=errors)


async def _unauthorized(request: Request, error: Unauthorized) -> JSONResponse:
    return problem(401, "Unauthorized", str(error), request)


async def _http_error(request: Request, error: HTTPException) -> JSONResponse:
    title = "NotFound" if error.status_code == 404 else "HTTPError"
    return problem(error.status_code, title, str(error.detail), request, getattr(error, "headers", None))


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("%s %s failed", request.method, request.url.path)
    return problem(500, "InternalError", None, request)


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` as problem+json."""
    app.add_exception_handler(KgrecError, _kgrec_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Unauthorized, _unauthorized)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
