"""CORS policy for proxied responses (Flask's own routes use flask-cors with the same origins).

Proxied calls bypass Flask, so the gateway applies the policy itself: allowed origins get their
origin echoed (never ``*`` together with credentials), preflights are answered here without
bothering the service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ascep.common.errors import OriginNotAllowed
from ascep.common.hosts import LOOPBACK_HOSTS, HostAllowList, host_name
from ascep.common.wsgi_errors import wsgi_error

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
EXPOSED_HEADERS = "X-Request-ID"
PREFLIGHT_MAX_AGE = "600"


@dataclass(frozen=True)
class CorsPolicy:
    origins: frozenset[str]
    #: ``ALLOWED_HOSTS``: a same-origin page is trusted only on a host listed there by name.
    hosts: HostAllowList = field(default_factory=lambda: HostAllowList.from_patterns(LOOPBACK_HOSTS))

    @classmethod
    def from_origins(cls, origins: Iterable[str], hosts: HostAllowList | None = None) -> CorsPolicy:
        cleaned = frozenset(o.rstrip("/") for o in origins if o)
        return cls(cleaned) if hosts is None else cls(cleaned, hosts)

    @property
    def any_origin(self) -> bool:
        return "*" in self.origins

    @property
    def allow_credentials(self) -> bool:
        """Credentials only with an explicit origin list: ``*`` plus credentials is unsafe."""
        return not self.any_origin

    def allows(self, origin: str | None) -> bool:
        return bool(origin) and (self.any_origin or origin in self.origins)

    def allows_socketio(self, origin: str | None, environ: dict) -> bool:
        """Socket.IO handshake check: listed origins, plus same-origin pages on an allowed host.

        python-engineio's own default trusts any page whose origin equals ``scheme://Host``; the
        ``Host`` header is the attacker's to choose (DNS rebinding: Origin and Host both
        ``evil.com``), so same-origin counts only on a host ``ALLOWED_HOSTS`` names explicitly
        (``*`` does not). No ``Origin`` at all is a non-browser client: allowed, as in engineio.
        Like engineio, the scheme may come from ``X-Forwarded-Proto`` (TLS ended at a front proxy).
        """
        if not origin or self.allows(origin):
            return True
        host = environ.get("HTTP_HOST", "")
        schemes = {environ.get("wsgi.url_scheme", "http")}
        forwarded = environ.get("HTTP_X_FORWARDED_PROTO")
        if forwarded:
            schemes.add(forwarded.split(",")[0].strip().lower())
        same_origin = origin in {f"{scheme}://{host}" for scheme in schemes}
        return same_origin and self.hosts.allows_name(host_name(host), wildcard=False)

    def response_headers(self, origin: str | None) -> list[tuple[str, str]]:
        """Headers to add to an actual (non-preflight) response."""
        if not origin or not self.allows(origin):
            return []
        headers = [
            ("Access-Control-Allow-Origin", "*" if self.any_origin else origin),
            ("Access-Control-Expose-Headers", EXPOSED_HEADERS),
        ]
        if not self.any_origin:
            headers.append(("Vary", "Origin"))
        if self.allow_credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        return headers

    def preflight_headers(self, origin: str | None, requested_headers: str | None) -> list[tuple[str, str]]:
        """Headers answering an ``OPTIONS`` preflight (empty: the browser will refuse)."""
        headers = self.response_headers(origin)
        if not headers:
            return []
        headers.append(("Access-Control-Allow-Methods", ALLOWED_METHODS))
        if requested_headers:
            headers.append(("Access-Control-Allow-Headers", requested_headers))
        headers.append(("Access-Control-Max-Age", PREFLIGHT_MAX_AGE))
        return headers


class SocketIOOriginGuard:
    """Refuse Socket.IO requests from a foreign page with 403 ``ORIGIN_NOT_ALLOWED`` (the envelope).

    python-engineio runs the same check (``cors_allowed_origins=policy.allows_socketio``) but
    answers with a bare string; checking first gives clients the envelope every other error has.
    """

    def __init__(self, app: WSGIApp, policy: CorsPolicy, path: str = "/socket.io") -> None:
        self.app = app
        self.policy = policy
        self.prefix = path.rstrip("/") + "/"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if not (path + "/").startswith(self.prefix):
            return self.app(environ, start_response)
        origin = environ.get("HTTP_ORIGIN")
        if self.policy.allows_socketio(origin, environ):
            return self.app(environ, start_response)
        error = OriginNotAllowed(
            "this page's origin may not open a Socket.IO connection", {"origin": str(origin)[:200]}
        )
        return wsgi_error(error, environ, start_response)
