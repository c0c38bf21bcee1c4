"""The gateway's one CORS policy: for proxied answers, its own Flask routes, and Socket.IO.

Allowed origins get their origin echoed (never ``*`` together with credentials); a request without
``Origin`` (not a browser) gets no CORS header at all. The gateway alone decides: any
``Access-Control-*`` header a service or a route sets is replaced. Three places apply it:

* proxied calls bypass Flask: the proxy step ``apply_cors`` answers their preflights itself, without
  bothering the service, and sets the headers on every answer;
* the gateway's own routes (Flask, dashboard): :class:`CorsMiddleware` around Flask's WSGI app;
* Socket.IO: :meth:`CorsPolicy.allows_socketio`, checked by :class:`SocketIOOriginGuard` and
  python-engineio.
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
#: Response headers a page may read cross-origin: the correlation id and the rate-limit state.
EXPOSED_HEADERS = "X-Request-ID, RateLimit, RateLimit-Policy, Retry-After"
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


def is_preflight(method: str, origin: str | None, requested_method: str | None) -> bool:
    """An ``OPTIONS`` from a page, naming the method it wants to use (the Fetch standard's test)."""
    return method == "OPTIONS" and bool(origin) and bool(requested_method)


def with_cors(headers: Iterable[tuple[str, str]], cors: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``headers`` without any ``Access-Control-*`` header, plus ``cors`` (``Vary`` merged, not doubled)."""
    out = [(n, v) for n, v in headers if not n.lower().startswith("access-control-")]
    for name, value in cors:
        if name == "Vary":
            at = next((i for i, (n, _) in enumerate(out) if n.lower() == "vary"), None)
            if at is not None:
                present = {v.strip().lower() for v in out[at][1].split(",")}
                if value.lower() not in present and "*" not in present:
                    out[at] = (out[at][0], f"{out[at][1]}, {value}")
                continue
        out.append((name, value))
    return out


class CorsMiddleware:
    """The policy on the gateway's own routes, as the ``apply_cors`` proxy step on proxied ones.

    Flask answers a preflight to one of its routes itself (automatic ``OPTIONS``); this adds the
    preflight headers to that answer, and the response headers to every other one.
    """

    def __init__(self, app: WSGIApp, policy: CorsPolicy) -> None:
        self.app = app
        self.policy = policy

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        method = environ.get("REQUEST_METHOD", "")
        if is_preflight(method, origin, environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")):
            cors = self.policy.preflight_headers(origin, environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"))
        else:
            cors = self.policy.response_headers(origin)

        def start_with_cors(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, with_cors(headers, cors), exc_info)

        return self.app(environ, start_with_cors)


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
