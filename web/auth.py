"""Bearer API keys: required for writes always, for reads when the settings say so.

With no key configured, writes are refused (403), never open. Keys are compared in constant
time. The same check serves the UI's owner-key field.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rag.settings import Settings
from web.errors import ApiError

bearer = HTTPBearer(auto_error=False, description="An API key from STYRDOK_API_KEYS.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def key_is_valid(settings: Settings, key: str | None) -> bool:
    if not key:
        return False
    given = key.encode()
    # Check every key (no early exit) so timing does not tell which one nearly matched.
    matches = [hmac.compare_digest(given, secret.get_secret_value().encode())
               for secret in settings.api_keys]
    return any(matches)


def check_write_key(settings: Settings, key: str | None) -> None:
    """Raise the ApiError a write without a valid key deserves."""
    if not settings.api_keys:
        raise ApiError(403, "writes_disabled", "writes are disabled: no API key is configured "
                       "on the server (set STYRDOK_API_KEYS)")
    if not key:
        raise ApiError(401, "unauthorized", "missing bearer API key", _CHALLENGE)
    if not key_is_valid(settings, key):
        raise ApiError(401, "unauthorized", "invalid API key", _CHALLENGE)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def require_write_key(request: Request, credentials: Credentials) -> None:
    check_write_key(_settings(request), credentials.credentials if credentials else None)


def require_read_key(request: Request, credentials: Credentials) -> None:
    settings = _settings(request)
    if not settings.require_key_for_reads:
        return
    key = credentials.credentials if credentials else None
    if not key_is_valid(settings, key):
        message = "invalid API key" if key else "missing bearer API key"
        raise ApiError(401, "unauthorized", message, _CHALLENGE)
