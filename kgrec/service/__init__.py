"""kgrec as a REST service (FastAPI + uvicorn; the ``serve`` extra): ``kgrec serve``.

:class:`Settings` (``KGREC_*`` environment variables), :func:`create_app` (the FastAPI
application) and :func:`run` (uvicorn, one or more workers). ``python -m kgrec.service`` runs
the service configured by the environment.
"""

from kgrec.service.app import create_app
from kgrec.service.run import run
from kgrec.service.settings import Settings

__all__ = ["Settings", "create_app", "run"]
