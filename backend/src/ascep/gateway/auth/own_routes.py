"""What the gateway's own (non-proxied) routes need, and the WSGI middleware that enforces it.

| path | needs |
| --- | --- |
| ``/health``, ``/ready`` (load balancers, supervisors) | nothing |
| ``/api/auth/config``, ``/api/auth/token`` (how to sign in) | nothing |
| ``/api/openapi.json``/``.yaml``, ``/api/asyncapi.json``, ``/docs``, ``/redoc`` | nothing |
| ``/``, the dashboard's files (the sign-in form must load) | nothing |
| ``/socket.io`` | checked in the handshake (``auth``), not here |
| ``/api/users/me`` | any valid credential |
| ``/api/health``, ``/api/latency``, ``/api/services`` | ``read`` (``write`` for other methods) |
| ``/metrics`` (service names, traffic; a scraper sends an ``X-API-Key``) | ``read`` |
| ``/status`` (configuration, internal addresses) | ``admin`` |
| ``/api/gateway/**`` (splits, keys, users) — every method | ``admin`` |

A CORS preflight is never authenticated (browsers send no credential with it). The principal is
left in ``environ["ascep.principal"]`` for the views and the rate limiter; with ``AUTH_MODE=off``
it is the anonymous caller with every scope and nothing is checked.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from ascep.common.errors import AscepError, InternalError
from ascep.common.wsgi_errors import wsgi_error
from ascep.gateway.auth.access import PUBLIC, READ_METHODS
from ascep.gateway.auth.authenticator import EVERYONE, NOBODY, Authenticator, authorize
from ascep.gateway.auth.principal import ENVIRON_KEY

logger = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: environ key of the whole :class:`~.tokens.Verified` (expiry, grant) for ``/api/users/me``.
VERIFIED_KEY = "ascep.verified"
#: Any valid credential, whatever its scopes.
AUTHENTICATED = "authenticated"

#: The API documents are public too: /docs must load them before anyone signs in, and what
#: the platform's endpoints look like is no secret (what they return is).
PUBLIC_PATHS = frozenset(
    {
        "/health",
        "/ready",
        "/api/auth/config",
        "/api/auth/token",
        "/api/openapi.json",
        "/api/openapi.yaml",
        "/api/asyncapi.json",
    }
)
ADMIN_PATHS = frozenset({"/status"})
ADMIN_PREFIX = "/api/gateway/"
SOCKETIO_PREFIX = "/socket.io"
_SLASHES = re.compile(r"/{2,}")


def requirement(method: str, path: str) -> str | None:
    """The scope (``public``, ``authenticated``, ``read``, ``write``, ``admin``) a gateway route
    needs; ``None``: not decided here (Socket.IO authenticates its handshake itself).

    Repeated and trailing slashes are ignored, so ``//status/`` needs what ``/status`` needs
    (Flask would redirect it there, but no spelling should ever fall through to public).
    """
    if "//" in path:
        path = _SLASHES.sub("/", path)
    if len(path) > 1:
        path = path.rstrip("/")
    if path in PUBLIC_PATHS:
        return PUBLIC
    if path.startswith(ADMIN_PREFIX) or path == ADMIN_PREFIX.rstrip("/") or path in ADMIN_PATHS:
        return "admin"
    if path.startswith(SOCKETIO_PREFIX):
        return None
    if path == "/api/users/me":
        return AUTHENTICATED
    if path.startswith("/api/") or path == "/metrics":
        return "read" if method in READ_METHODS else "write"
    return PUBLIC


class AuthMiddleware:
    """Authenticate and authorise every request to the gateway's own routes (see the table above)."""

    def __init__(self, app: WSGIApp, authenticator: Authenticator) -> None:
        self.app = app
        self.authenticator = authenticator

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not self.authenticator.required:
            environ[ENVIRON_KEY] = EVERYONE
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "")
        needed = requirement(method, environ.get("PATH_INFO", ""))
        preflight = (
            method == "OPTIONS"
            and "HTTP_ORIGIN" in environ
            and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
        )
        if needed is None or needed == PUBLIC or preflight:
            environ[ENVIRON_KEY] = NOBODY
            return self.app(environ, start_response)
        try:
            verified = self.authenticator.authenticate(
                environ.get("HTTP_AUTHORIZATION"), environ.get("HTTP_X_API_KEY")
            )
            principal = verified.principal
            environ[ENVIRON_KEY] = principal
            environ[VERIFIED_KEY] = verified
            if needed == AUTHENTICATED:
                if not principal.authenticated:
                    authorize(principal, "read")  # raises the 401 every anonymous caller gets
            else:
                authorize(principal, needed)
        except AscepError as error:
            return wsgi_error(error, environ, start_response)
        except Exception:
            logger.exception("authenticating %s %s failed", method, environ.get("PATH_INFO"))
            return wsgi_error(InternalError("internal error"), environ, start_response)
        return self.app(environ, start_response)
