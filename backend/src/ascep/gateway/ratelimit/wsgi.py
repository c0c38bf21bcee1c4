"""Rate limits outside the proxy: the gateway's own ``/api`` routes and Socket.IO handshakes.

* :class:`OwnRouteLimit` wraps the Flask app: every ``/api/...`` path the gateway answers itself
  (``/api/health``, ``/api/latency``, ``/api/services``, ``/api/gateway/...``, the auth routes) is
  under the ``gateway`` policy, per caller — the principal authentication left in
  ``environ["ascep.principal"]``, else the client address. Not limited: the operational endpoints
  (``/health``, ``/ready``, ``/status``, ``/metrics``: probes and scrapers must never see a 429),
  the dashboard's files, CORS preflights (the browser's, answered without work; proxied
  preflights are answered above the proxy's step too), and ``/api/gateway/rate-limits`` itself,
  so an administrator who set a limit too low can always undo it.
* :class:`SocketIOConnectLimit` counts Socket.IO *connection attempts* per client address: an
  Engine.IO request without a ``sid`` opens a session; the requests of an open session
  (polling, the websocket upgrade) are not counted. What a connected client may *send* has its own
  per-connection limit (``SOCKETIO_CLIENT_RATE``).

Both answer a refusal with the envelope and the headers, and add the headers to every answer of
a limited request (success or error) by wrapping ``start_response``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ascep.common.wsgi_errors import wsgi_error
from ascep.gateway.auth.principal import ENVIRON_KEY, Principal, anonymous
from ascep.gateway.client_address import ClientAddresses, limit_key
from ascep.gateway.cors import is_preflight
from ascep.gateway.ratelimit.limiter import RateLimiter, refusal
from ascep.gateway.ratelimit.table import GATEWAY, SOCKETIO

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Own routes never limited (below ``/api/``): the way to lift a limit must stay open.
EXEMPT_PREFIXES = ("/api/gateway/rate-limits",)
_ANONYMOUS: Principal = anonymous()


def _with_headers(start_response: Callable[..., Any], headers: list[tuple[str, str]]) -> Callable[..., Any]:
    def start(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return start_response(status, [*response_headers, *headers], exc_info)

    return start


class OwnRouteLimit:
    """WSGI middleware: the ``gateway`` policy on the gateway's own ``/api`` routes."""

    def __init__(self, app: WSGIApp, limiter: RateLimiter, addresses: ClientAddresses) -> None:
        self.app = app
        self.limiter = limiter
        self.addresses = addresses

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if (
            not path.startswith("/api/")
            or path.startswith(EXEMPT_PREFIXES)
            or is_preflight(
                environ.get("REQUEST_METHOD", ""),
                environ.get("HTTP_ORIGIN"),
                environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"),
            )
        ):
            return self.app(environ, start_response)
        policy = self.limiter.table.get(GATEWAY)
        if policy is None:
            return self.app(environ, start_response)
        principal = environ.get(ENVIRON_KEY)
        if not isinstance(principal, Principal):
            principal = _ANONYMOUS
        address = limit_key(self.addresses.from_environ(environ))
        decision = self.limiter.decide(policy, principal.rate_limit_identity(address))
        if not decision.allowed:
            return wsgi_error(refusal(decision), environ, start_response)
        return self.app(environ, _with_headers(start_response, decision.headers()))


class SocketIOConnectLimit:
    """WSGI middleware: the ``socketio`` policy on Engine.IO handshakes, per client address."""

    def __init__(
        self, app: WSGIApp, limiter: RateLimiter, addresses: ClientAddresses, path: str = "/socket.io"
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.addresses = addresses
        self.prefix = path.rstrip("/") + "/"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if not (path + "/").startswith(self.prefix) or _has_sid(environ.get("QUERY_STRING", "")):
            return self.app(environ, start_response)
        policy = self.limiter.table.get(SOCKETIO)
        if policy is None:
            return self.app(environ, start_response)
        address = limit_key(self.addresses.from_environ(environ))
        decision = self.limiter.decide(policy, f"ip:{address}")
        if not decision.allowed:
            return wsgi_error(refusal(decision), environ, start_response)
        return self.app(environ, _with_headers(start_response, decision.headers()))


def _has_sid(query: str) -> bool:
    """Does the Engine.IO query name a session (``sid=...``)? Then it is not a new connection."""
    return any(part.startswith("sid=") and len(part) > 4 for part in query.split("&"))
