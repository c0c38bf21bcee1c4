"""Credentials, scopes and the answers the gateway itself may add, as the OpenAPI document says them.

The scope rule is the gateway's (issue 17): ``read`` for GET/HEAD, ``write`` for other methods,
``admin`` for anything under ``/api/gateway/``. With ``AUTH_MODE=off`` every call may also go
without credentials (the empty requirement ``{}``); routes marked ``public`` (liveness, the
documents themselves) never need any.
"""

from __future__ import annotations

from typing import Any

BEARER = "bearerAuth"
API_KEY = "apiKey"
ADMIN_PREFIX = "/api/gateway/"

SECURITY_SCHEMES: dict[str, Any] = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "Authorization: Bearer <JWT>; its scopes (read, write, admin) say what it may call.",
    },
    API_KEY: {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "An API key issued by an administrator (POST /api/gateway/keys), with its scopes.",
    },
}

#: Answers any proxied call may get from the gateway itself, before or instead of the service's.
PROXY_ANSWERS = (400, 401, 403, 404, 413, 422, 429, 502, 503, 504)
#: Answers any non-public route of the gateway may get (authentication, scopes, rate limits).
AUTH_ANSWERS = (401, 403, 429)


def required_scope(method: str, path: str) -> str:
    """The scope a call needs: ``admin`` under ``/api/gateway/``, else by method."""
    if path.startswith(ADMIN_PREFIX):
        return "admin"
    return "read" if method.upper() in ("GET", "HEAD") else "write"


def security_for(method: str, path: str, *, auth_required: bool, public: bool) -> list[dict[str, list[str]]]:
    """The operation's ``security``: ``[]`` (none) when public, else a JWT or a key with the scope."""
    if public:
        return []
    scope = [required_scope(method, path)]
    options: list[dict[str, list[str]]] = [{BEARER: scope}, {API_KEY: scope}]
    return options if auth_required else [{}, *options]
