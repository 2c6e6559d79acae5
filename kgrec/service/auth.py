"""API keys: the ``X-API-Key`` header checked against the configured keys in constant time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from fastapi import Security
from fastapi.security import APIKeyHeader
from pydantic import SecretStr

from kgrec.service.problems import Unauthorized

HEADER = "X-API-Key"


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


class KeyCheck:
    """Accepts a request whose ``X-API-Key`` is one of ``keys``, else raises
    :class:`Unauthorized` (a 401 problem). Keys are compared as SHA-256 digests with
    :func:`hmac.compare_digest`, against every key whatever matched, so neither the time nor
    the key's length tells a caller how close a guess was. No keys: every request is refused."""

    def __init__(self, keys: Sequence[SecretStr]) -> None:
        self._digests = [_digest(key.get_secret_value()) for key in keys]

    def accepts(self, given: str) -> bool:
        """Whether ``given`` is one of the keys."""
        digest = _digest(given)
        matched = False
        for key in self._digests:
            matched |= hmac.compare_digest(digest, key)
        return matched

    def __call__(self, given: str | None = Security(APIKeyHeader(name=HEADER, auto_error=False))) -> None:
        if not self._digests:
            raise Unauthorized("this service has no API keys configured (KGREC_API_KEYS): it takes no keyed requests")
        if given is None:
            raise Unauthorized(f"this request needs an API key in the {HEADER} header")
        if not self.accepts(given):
            raise Unauthorized(f"the {HEADER} header holds no valid API key")
