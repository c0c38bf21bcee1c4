"""The ``rate_limit`` proxy step: one decision per client request, its headers on every answer.

Runs right after ``authenticate`` (it reads ``exchange.principal``; ``None`` is an anonymous
caller known by address) and above ``retry``, so a request is counted once however many
attempts it takes, and a refusal costs nothing below it (no body read, no bulkhead slot, no
latency sample, nothing the breaker sees). The policy is the route's service's.

``RateLimit-Policy`` / ``RateLimit`` go on the answer whatever it is: the service's own, or an
error raised below (added to the error's headers on its way up to ``render_errors``).
"""

from __future__ import annotations

from ascep.common.errors import AscepError
from ascep.gateway.auth.principal import Principal, anonymous
from ascep.gateway.client_address import ClientAddresses, limit_key
from ascep.gateway.proxy.exchange import Exchange, ProxyResponse
from ascep.gateway.proxy.pipeline import Handler, Step
from ascep.gateway.ratelimit.limiter import RateLimiter, refusal

_ANONYMOUS: Principal = anonymous()


def rate_limit(limiter: RateLimiter, addresses: ClientAddresses) -> Step:
    """Refuse with 429 ``RATE_LIMITED`` (503 when Redis is down and ``RATE_LIMIT_FAIL=closed``)."""

    def step(exchange: Exchange, call_next: Handler) -> ProxyResponse:
        route = exchange.route
        assert route is not None, "rate_limit must run after resolve_route"
        policy = limiter.table.get(route.service.name)
        if policy is None:  # not limited: nothing to look up, no headers
            return call_next(exchange)
        principal = exchange.principal or _ANONYMOUS
        address = limit_key(addresses.from_headers(exchange.client_addr, exchange.headers))
        decision = limiter.decide(policy, principal.rate_limit_identity(address))
        if not decision.allowed:
            raise refusal(decision)
        headers = decision.headers()
        try:
            response = call_next(exchange)
        except AscepError as error:
            error.headers.extend(headers)
            raise
        response.headers.extend(headers)
        return response

    return step
