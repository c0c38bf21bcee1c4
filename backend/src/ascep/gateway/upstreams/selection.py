"""The ``select_upstream`` proxy step: choose the instance a call goes to.

Runs after ``resolve_route`` and the bulkhead (a refused call never counts against an instance)
and before everything that needs to know the instance (the circuit breaker, the forwarder).
The chosen instance's ``in_flight`` is held until the answer has been streamed to the client and
given back on every way out — an error below, or a failure before the answer exists — exactly
like a bulkhead slot.
"""

from __future__ import annotations

from ascep.gateway.proxy.exchange import Exchange, ProxyResponse
from ascep.gateway.proxy.pipeline import Handler, Step
from ascep.gateway.upstreams.instances import Upstreams


def select_upstream(upstreams: Upstreams) -> Step:
    """Set ``exchange.upstream`` by the service's load-balancing policy; 503 if none may be called.

    ``exchange.versions`` (a traffic split's arm, see :mod:`.split_step`) narrows the choice to
    the first of those versions that has a routable instance.
    """

    def step(exchange: Exchange, call_next: Handler) -> ProxyResponse:
        route = exchange.route
        assert route is not None, "select_upstream must run after resolve_route"
        instances = upstreams[route.service.name]
        # a retry avoids the instances already tried; a split prefers its arm's version
        upstream = instances.choose(exchange.tried, exchange.versions)
        exchange.upstream = upstream
        instances.begin(upstream)
        try:
            response = call_next(exchange)
        except BaseException:
            instances.end(upstream)
            raise
        response.on_close(lambda _status, _failed: instances.end(upstream))
        return response

    return step
