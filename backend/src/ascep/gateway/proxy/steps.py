"""The gateway's proxy steps, in the order :func:`default_steps` chains them.

Each step does one thing and is testable alone with a plain function as ``call_next``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from http import HTTPStatus

from ascep.common.errors import (
    AscepError,
    BadGateway,
    BadRequest,
    CircuitOpen,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceOverloaded,
    ServiceUnavailable,
    UpstreamTimeout,
    envelope_bytes,
)
from ascep.gateway.cors import CorsPolicy, is_preflight, with_cors
from ascep.gateway.latency.recorder import LatencyRecorder, Sample
from ascep.gateway.proxy.bulkhead import Bulkhead
from ascep.gateway.proxy.exchange import Exchange, ProxyResponse
from ascep.gateway.proxy.locations import REWRITTEN_HEADERS, rewrite_location
from ascep.gateway.proxy.pipeline import Handler, Step
from ascep.gateway.routing import ServiceRegistry
from ascep.gateway.upstreams.breaker import outcome_of_error, outcome_of_status
from ascep.gateway.upstreams.breakers import BreakerBoard
from ascep.gateway.upstreams.model import Upstream, UpstreamKey

logger = logging.getLogger(__name__)

#: Seconds a client refused by a full bulkhead is told to wait (``Retry-After``): slots free up as
#: calls finish, so a short pause is enough for a busy-but-healthy service.
OVERLOADED_RETRY_AFTER_S = 1


def apply_cors(policy: CorsPolicy) -> Step:
    """Answer preflights here; add CORS headers to every proxied answer for allowed origins."""

    def step(exchange: Exchange, call_next: Handler) -> ProxyResponse:
        origin = exchange.header("Origin")
        if is_preflight(exchange.method, origin, exchange.header("Access-Control-Request-Method")):
            headers = policy.preflight_headers(origin, exchange.header("Access-Control-Request-Headers"))
            return ProxyResponse(204, "No Content", [*headers, ("Content-Length", "0")], [])
        response = call_next(exchange)
        # The gateway alone decides CORS: a service's own Access-Control-* headers never leak out.
        response.headers[:] = with_cors(response.headers, policy.response_headers(origin))
        return response

    return step


def reject_dot_segments(exchange: Exchange, call_next: Handler) -> ProxyResponse:
    """Refuse ``.``/``..`` segments: a service normalising them could be reached outside its prefix."""
    segments = exchange.path.split("/")
    if "." in segments or ".." in segments:
        raise BadRequest("path must not contain '.' or '..' segments", {"path": exchange.path})
    return call_next(exchange)


def resolve_route(registry: ServiceRegistry) -> Step:
    """Find the service owning the path (longest registered prefix) and check the method."""

    def step(exchange: Exchange, call_next: Handler) -> ProxyResponse:
        route = registry.match(exchange.path)
        if route is None:
            raise NotFound(
                f"no service is registered for /api{exchange.path}", {"path": "/api" + exchange.path}
            )
        if not route.service.allows(exchange.method):
            raise MethodNotAllowed(
                f"{exchange.method} is not allowed on /api{route.endpoint}",
                {"allowed": sorted(route.service.methods or ())},
            )
        exchange.route = route
        return call_next(exchange)

    return step


def limit_body(max_bytes: int) -> Step:
    """Refuse bodies over ``max_bytes`` before any byte reaches a service."""

    def step(exchange: Exchange, call_next: Handler) -> ProxyResponse:
        if exchange.content_length is not None and exchange.content_length > max_bytes:
            raise PayloadTooLarge(
                f"request body of {exchange.content_length} bytes exceeds the limit of {max_bytes}",
                {"limit_bytes": max_bytes},
            )
        return call_next(exchange)

    return step


def limit_concurrency(bulkhead: Bulkhead) -> Step:
    """Refuse at once (503 ``SERVICE_OVERLOADED``) when the service already has its limit of calls.

    The slot is held until the answer has been streamed to the client (``on_close``), and given
    back on every path out: an error below, or a failure before the answer exists.
    """

    def step(exchange: Exchange, call_next: Handler) -> ProxyResponse:
        route = exchange.route
        assert route is not None, "limit_concurrency must run after resolve_route"
        service = route.service.name
        if not bulkhead.try_acquire(service):
            raise ServiceOverloaded(
                f"service {service!r} has too many calls in progress; retry shortly",
                {"service": service, "limit": bulkhead.limit(service)},
            )
        try:
            response = call_next(exchange)
        except BaseException:
            bulkhead.release(service)
            raise
        response.on_close(lambda _status, _failed: bulkhead.release(service))
        return response

    return step


def rewrite_locations(registry: ServiceRegistry, service_netlocs: Mapping[str, str], prefix: str) -> Step:
    """Point ``Location``/``Content-Location`` into the service back through the gateway (``prefix``)."""

    def step(exchange: Exchange, call_next: Handler) -> ProxyResponse:
        response = call_next(exchange)
        route = exchange.route
        if route is None or not any(n.lower() in REWRITTEN_HEADERS for n, _ in response.headers):
            return response
        service = route.service
        response.headers[:] = [
            (
                name,
                rewrite_location(
                    value,
                    service=service,
                    service_netloc=exchange.upstream.address
                    if exchange.upstream is not None
                    else service_netlocs[service.name],
                    registry=registry,
                    prefix=prefix,
                )
                if name.lower() in REWRITTEN_HEADERS
                else value,
            )
            for name, value in response.headers
        ]
        return response

    return step


def upstream_key(exchange: Exchange, static_instances: Mapping[str, str]) -> UpstreamKey:
    """The instance a call goes to: the selected upstream, else the service's one static address.

    ``static_instances``: service name -> ``host:port`` of its base URL (a static instance's id).
    """
    route = exchange.route
    assert route is not None, "upstream_key needs a resolved route"
    upstream = exchange.upstream
    if upstream is not None:
        return UpstreamKey(route.service.name, upstream.instance_id)
    return UpstreamKey(route.service.name, static_instances[route.service.name])


def circuit_breaker(
    board: BreakerBoard,
    key_of: Callable[[Exchange], UpstreamKey],
    clock: Callable[[], float] = time.perf_counter,
) -> Step:
    """Refuse at once (503 ``CIRCUIT_OPEN``) while the instance's breaker is open; count outcomes.

    Nothing is held during the call (unlike pybreaker's lock around it): the breaker is asked
    before and told after. The outcome is judged when the answer's status is known (a 5xx or an
    upstream error counts, a 4xx does not), not when its body has been streamed, so a client
    hanging up mid-download never counts against the instance.
    """

    def step(exchange: Exchange, call_next: Handler) -> ProxyResponse:
        key = key_of(exchange)
        try:
            ticket = board.admit(key)
        except CircuitOpen:
            board.observe_refusal(clock() - exchange.started)
            raise
        try:
            response = call_next(exchange)
        except BaseException as exc:
            board.record(key, ticket, outcome_of_error(exc))
            raise
        board.record(key, ticket, outcome_of_status(response.status))
        return response

    return step


def record_latency(recorder: LatencyRecorder, clock: Callable[[], float] = time.perf_counter) -> Step:
    """Time the call from arrival to the last byte sent back, errors and timeouts included.

    Runs above the retry step: one sample per client request, whatever the attempts, with the
    number of retries in it.
    """

    def step(exchange: Exchange, call_next: Handler) -> ProxyResponse:
        route = exchange.route
        assert route is not None, "record_latency must run after resolve_route"
        service, endpoint, method = route.service.name, route.endpoint, exchange.method
        try:
            response = call_next(exchange)
        except Exception as exc:
            status = getattr(exc, "status_code", 500)
            elapsed = clock() - exchange.started
            recorder.record(Sample(service, endpoint, method, status, elapsed, retries=_retries(exchange)))
            raise

        def finished(status: int, failed: bool) -> None:
            recorded = 502 if failed and status < 500 else status
            elapsed = clock() - exchange.started
            recorder.record(Sample(service, endpoint, method, recorded, elapsed, retries=_retries(exchange)))

        response.on_close(finished)
        return response

    return step


def _retries(exchange: Exchange) -> int:
    return exchange.attempts - 1 if exchange.attempts > 1 else 0


def is_upstream_failure(error: AscepError) -> bool:
    """Did the instance fail the call (timeout, refused or broken connection, invalid answer)?

    A refusal the gateway decides itself (a full bulkhead, an open breaker: subclasses of
    ``ServiceUnavailable``) says nothing about the instance and is not a failure.
    """
    return isinstance(error, UpstreamTimeout | BadGateway) or type(error) is ServiceUnavailable


def observe_outcome(observe: Callable[[Upstream, bool], None]) -> Step:
    """Tell outlier detection how each call to the chosen instance ended (local memory only).

    A 5xx answer, a body that broke off, a timeout or a connection error is a failure; a 4xx is
    the client's fault, not the instance's. Runs after ``select_upstream``, next to the forwarder.
    """

    def step(exchange: Exchange, call_next: Handler) -> ProxyResponse:
        upstream = exchange.upstream
        if upstream is None:
            return call_next(exchange)
        try:
            response = call_next(exchange)
        except AscepError as error:
            if is_upstream_failure(error):
                observe(upstream, True)
            raise
        response.on_close(lambda status, failed: observe(upstream, failed or status >= 500))
        return response

    return step


def render_errors(exchange: Exchange, call_next: Handler) -> ProxyResponse:
    """Turn any error below into the standard envelope, so outer steps see a normal answer."""
    try:
        return call_next(exchange)
    except AscepError as error:
        if error.status_code >= 500 and not isinstance(error, ServiceOverloaded | CircuitOpen):
            # the bulkhead logs its refusals (rate-limited); a breaker logs its transitions
            logger.warning(
                "%s /api%s -> %d %s", exchange.method, exchange.path, error.status_code, error.code
            )
        return error_response(error, exchange.request_id)
    except Exception:
        logger.exception("unexpected error proxying %s /api%s", exchange.method, exchange.path)
        return error_response(InternalError("internal gateway error"), exchange.request_id)


def error_response(error: AscepError, request_id: str) -> ProxyResponse:
    body = envelope_bytes(error, request_id)
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    headers.extend(error.response_headers())
    if isinstance(error, MethodNotAllowed) and error.details.get("allowed"):
        headers.append(("Allow", ", ".join(error.details["allowed"])))
    if isinstance(error, ServiceOverloaded):
        headers.append(("Retry-After", str(OVERLOADED_RETRY_AFTER_S)))
    if isinstance(error, CircuitOpen):
        headers.append(("Retry-After", str(error.retry_after)))
    return ProxyResponse(error.status_code, HTTPStatus(error.status_code).phrase, headers, [body])
