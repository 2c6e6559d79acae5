"""Running the service with uvicorn: :func:`run`, and the factory its workers call."""

from __future__ import annotations

import logging
import os

import torch
import uvicorn
from fastapi import FastAPI

from kgrec.service.app import create_app
from kgrec.service.settings import ENV_PREFIX, Settings

log = logging.getLogger(__name__)

#: What uvicorn imports in each worker: :func:`app_from_environment`.
FACTORY = "kgrec.service.run:app_from_environment"
#: Seconds uvicorn's supervisor waits for a worker to answer its health ping before killing it
#: (uvicorn's default, 5, kills workers still reading a Neo4j graph at start-up on a busy box,
#: over and over).
WORKER_HEALTHCHECK_SECONDS = 120


def app_from_environment() -> FastAPI:
    """The service configured by the ``KGREC_*`` environment variables, one torch thread per
    process (a request's tensors are tiny; more threads only take CPU from other workers). A
    worker process logs kgrec's INFO messages to stderr unless logging is configured already."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(1)
    return create_app(Settings())


def run(settings: Settings) -> None:
    """Serve ``settings`` with uvicorn on ``settings.host``:``settings.port`` with
    ``settings.workers`` processes until interrupted. The workers read the settings from the
    environment, where this writes them (replacing any other ``KGREC_*`` setting)."""
    for name in Settings.model_fields:
        os.environ.pop(f"{ENV_PREFIX}{name.upper()}", None)
    os.environ.update(settings.environment())
    log.info("serving on http://%s:%d with %d worker(s)", settings.host, settings.port, settings.workers)
    uvicorn.run(
        FACTORY,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )
