"""The ``authenticate`` proxy step: who is calling, may they, and what the service is told.

Runs after ``resolve_route`` (the route's registered :class:`~.access.Access` decides the scope)
and before ``rate_limit`` (which counts by ``exchange.principal``). On every request, whatever
``AUTH_MODE``, it drops any ``X-Authenticated-*`` header the client sent: only the gateway sets
them, so a service can trust them. With ``AUTH_MODE=required`` it then

* verifies the one credential (``Authorization: Bearer`` or ``X-API-Key``): 401 when it fails;
* checks the route's scope: 401 without a credential, 403 with one that lacks the scope;
* removes the credential from what the service receives (the gateway consumed it; a service
  trusts the headers below instead of re-verifying, and a key never travels further);
* adds ``X-Authenticated-Subject`` (JWT ``sub`` or ``key:<id>``) and ``X-Authenticated-Scopes``
  (space-separated) for an authenticated caller.

No Redis, no lock: a JWT seen before is a dict lookup, an API key a dict lookup and one SHA-256.
"""

from __future__ import annotations

from ascep.common.errors import Unauthorized
from ascep.gateway.auth.api_keys import API_KEY_HEADER
from ascep.gateway.auth.authenticator import EVERYONE, Authenticator, authorize
from ascep.gateway.proxy.exchange import Exchange, ProxyResponse
from ascep.gateway.proxy.pipeline import Handler, Step

#: Headers only the gateway may set; every client-sent one is dropped.
TRUSTED_PREFIX = "x-authenticated-"
SUBJECT_HEADER = "X-Authenticated-Subject"
SCOPES_HEADER = "X-Authenticated-Scopes"
_API_KEY_LOWER = API_KEY_HEADER.lower()


def authenticate(authenticator: Authenticator) -> Step:
    """The step; ``exchange.principal`` is set when it calls the next one."""
    if not authenticator.required:
        return _strip_only

    def step(exchange: Exchange, call_next: Handler) -> ProxyResponse:
        route = exchange.route
        assert route is not None, "authenticate must run after resolve_route"
        authorization: str | None = None
        api_key: str | None = None
        kept: list[tuple[str, str]] = []
        for name, value in exchange.headers:
            lowered = name.lower()
            if lowered == "authorization":
                if authorization is not None:
                    raise Unauthorized("send one Authorization header", {"reason": "ambiguous"})
                authorization = value
            elif lowered == _API_KEY_LOWER:
                if api_key is not None:
                    raise Unauthorized("send one X-API-Key header", {"reason": "ambiguous"})
                api_key = value
            elif not lowered.startswith(TRUSTED_PREFIX):
                kept.append((name, value))
        principal = authenticator.authenticate(authorization, api_key).principal
        exchange.principal = principal
        authorize(principal, route.service.access.required(exchange.method, exchange.path))
        if principal.authenticated:
            kept.append((SUBJECT_HEADER, principal.subject))
            kept.append((SCOPES_HEADER, " ".join(sorted(principal.scopes))))
        exchange.headers = kept
        return call_next(exchange)

    return step


def _strip_only(exchange: Exchange, call_next: Handler) -> ProxyResponse:
    """``AUTH_MODE=off``: everyone may do everything; only forged trusted headers are dropped."""
    headers = exchange.headers
    if any(name.lower().startswith(TRUSTED_PREFIX) for name, _ in headers):
        exchange.headers = [(n, v) for n, v in headers if not n.lower().startswith(TRUSTED_PREFIX)]
    exchange.principal = EVERYONE
    return call_next(exchange)


def split_identity(exchange: Exchange) -> str | None:
    """A traffic split's sticky key: the authenticated subject, before ``SPLIT_KEY_HEADER``."""
    principal = exchange.principal
    return principal.subject if principal is not None and principal.authenticated else None
