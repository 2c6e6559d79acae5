"""The service's configuration, read from ``KGREC_*`` environment variables (pydantic-settings).

Every field is one variable: ``store`` is ``KGREC_STORE``, ``api_keys`` is ``KGREC_API_KEYS``
(comma-separated), and so on. :meth:`Settings.environment` writes a settings object back as
those variables: that is how :func:`kgrec.service.run` hands it to uvicorn's worker processes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from kgrec.graph.schema import DEFAULT_NAMESPACE

#: The prefix of every setting's environment variable.
ENV_PREFIX = "KGREC_"


class Settings(BaseSettings):
    """What ``kgrec serve`` serves and how.

    ``store="memory"`` opens the embedded store saved in folder ``graph`` (each worker opens it
    and replays what other workers wrote before every request); ``store="neo4j"`` connects to
    ``neo4j_uri``. ``checkpoint`` is the model folder (``Recommender.save``). Writes need one of
    ``api_keys`` in the ``X-API-Key`` header; reads too when ``reads_keyed``. A Neo4j call that
    cannot reach the server fails within about ``neo4j_timeout`` seconds.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    store: Literal["memory", "neo4j"] = "memory"
    graph: Path | None = Field(None, description="embedded store folder (store=memory)")
    checkpoint: Path = Field(description="checkpoint folder saved by Recommender.save")
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr | None = None
    neo4j_database: str | None = None
    neo4j_namespace: str = DEFAULT_NAMESPACE
    neo4j_timeout: float = Field(5.0, gt=0, le=600, description="seconds")
    api_keys: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    reads_keyed: bool = False
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)
    max_conversations: int = Field(1_000, ge=1, description="conversations kept per worker")

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(key.strip() for key in value.split(",") if key.strip())
        return value

    @field_validator("neo4j_database", "neo4j_uri", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _store_needs(self) -> "Settings":
        if self.store == "memory" and self.graph is None:
            raise ValueError("store=memory needs graph (KGREC_GRAPH), the embedded store's folder")
        if self.store == "neo4j" and not self.neo4j_uri:
            raise ValueError("store=neo4j needs neo4j_uri (KGREC_NEO4J_URI)")
        return self

    def environment(self) -> dict[str, str]:
        """These settings as ``KGREC_*`` variables (secrets in clear: for a child process's
        environment only); ``Settings()`` in that environment equals ``self``."""
        env = {}
        for name, value in self:
            if value is None:
                continue
            if name == "api_keys":
                value = ",".join(key.get_secret_value() for key in value)
            elif isinstance(value, SecretStr):
                value = value.get_secret_value()
            env[f"{ENV_PREFIX}{name.upper()}"] = str(value)
        return env
