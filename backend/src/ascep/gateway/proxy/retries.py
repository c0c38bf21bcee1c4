"""The ``retry`` proxy step: try a failed call again, on another instance, within a budget.

It sits above ``select_upstream``, so every attempt selects again, avoiding the instances already
tried (``exchange.tried``; the same one only when it is the only candidate). An attempt is tried
again only when all of these hold:

* the call is safe to repeat: ``GET HEAD OPTIONS PUT DELETE``, or any method with an
  ``Idempotency-Key`` header (a POST without one is sent exactly once, whatever happens);
* its body, if any, is at most ``RETRY_MAX_BODY_BYTES`` (kept in memory to be replayed; a larger
  one is streamed to the service and the call is never retried);
* it failed before the client got a byte: the connection could not be opened (refused, connect
  timeout), it broke before the response head (reset, garbage), the service answered 502/503/504,
  or our breaker refused the instance (``CIRCUIT_OPEN``: retried only when an instance not yet
  tried is a candidate — the same breaker would refuse again);
* not retried: a read timeout or passed deadline (the service may still be working on it, and
  the time is gone), ``SERVICE_OVERLOADED`` (the bulkhead is per service: another instance does
  not help, and retrying adds load exactly when there is too much), ``NO_HEALTHY_UPSTREAM``
  (no instance at all), and anything once the response is streaming to the client;
* attempts are left (``RETRY_MAX_ATTEMPTS`` / ``policy.max_attempts``), the backoff (full
  jitter: uniform in ``0..min(cap, base * 2**retry)``) still leaves ``RETRY_MIN_REMAINING_MS``
  before the deadline, and the service's retry budget allows one more
  (:mod:`ascep.gateway.upstreams.retry_budget`).

Otherwise the last attempt's answer (or error) is the client's. ``exchange.attempts`` counts the
attempts; :func:`report_attempts` puts it in ``X-Upstream-Attempts`` on every proxied answer.
"""

from __future__ import annotations

import io
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from ascep.common.errors import AscepError, BadGateway, CircuitOpen, ServiceUnavailable, UpstreamTimeout
from ascep.gateway.proxy.exchange import Exchange, ProxyResponse, ResponseBody
from ascep.gateway.proxy.headers import ATTEMPTS_HEADER, IDEMPOTENCY_KEY_HEADER
from ascep.gateway.proxy.pipeline import Handler, Step
from ascep.gateway.upstreams.retry_budget import RetryBudget

logger = logging.getLogger(__name__)

IDEMPOTENT_METHODS: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_STATUSES: frozenset[int] = frozenset({502, 503, 504})
_READ_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class RetryOptions:
    """The ``RETRY_*`` settings, in seconds where they are milliseconds."""

    max_attempts: int
    backoff_base_s: float
    backoff_cap_s: float
    min_remaining_s: float
    max_body_bytes: int

    def backoff(self, retry: int, draw: Callable[[], float] = random.random) -> float:
        """Full jitter (AWS architecture blog): uniform in ``0..min(cap, base * 2**(retry-1))``."""
        return draw() * min(self.backoff_cap_s, self.backoff_base_s * 2 ** (retry - 1))


class RetryMetrics:
    """``ascep_gateway_retries_total{service,outcome}`` and the budget-exhausted counter."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.retries = Counter(
            "ascep_gateway_retries",
            "Retried attempts of proxied calls; outcome: ok (answered below 500) or failed.",
            ["service", "outcome"],
            registry=registry,
        )
        self.exhausted = Counter(
            "ascep_gateway_retry_budget_exhausted",
            "Retries not made because the service's retry budget was spent.",
            ["service"],
            registry=registry,
        )


def is_replayable(exchange: Exchange, max_body_bytes: int) -> bool:
    """May this request be sent more than once (safe method or idempotency key, small body)?"""
    if exchange.method not in IDEMPOTENT_METHODS and exchange.header(IDEMPOTENCY_KEY_HEADER) is None:
        return False
    return not exchange.content_length or exchange.content_length <= max_body_bytes


def should_retry(response: ProxyResponse | None, error: AscepError | None) -> bool:
    """Did this attempt fail in a way another attempt may fix (see the module docstring)?"""
    if response is not None:
        return response.status in RETRYABLE_STATUSES
    if isinstance(error, UpstreamTimeout):
        return error.details.get("phase") == "connect"
    return isinstance(error, BadGateway | CircuitOpen) or type(error) is ServiceUnavailable


def retry(
    options: RetryOptions,
    budget: RetryBudget,
    metrics: RetryMetrics,
    *,
    max_attempts: Mapping[str, int],
    sleep: Callable[[float], Any],
    has_untried: Callable[[Exchange], bool] = lambda _exchange: False,
    clock: Callable[[], float] = time.perf_counter,
) -> Step:
    """The retry loop; ``max_attempts``: per-service overrides of ``options.max_attempts``;
    ``has_untried``: is an instance not in ``exchange.tried`` among the service's candidates?"""

    def step(exchange: Exchange, call_next: Handler) -> ProxyResponse:
        route = exchange.route
        assert route is not None, "retry must run after resolve_route"
        service = route.service.name
        budget.note_request(service)
        allowed = max_attempts.get(service, options.max_attempts)
        exchange.attempts = 1
        if allowed <= 1 or not is_replayable(exchange, options.max_body_bytes):
            return call_next(exchange)
        body = _read_body(exchange)
        while True:
            if body is not None:
                exchange.body = io.BytesIO(body)
            exchange.upstream = None
            response: ProxyResponse | None = None
            error: AscepError | None = None
            try:
                response = call_next(exchange)
            except AscepError as exc:
                error = exc
            if exchange.upstream is not None:
                exchange.tried = exchange.tried | {exchange.upstream.instance_id}
            failed = should_retry(response, error)
            if failed and isinstance(error, CircuitOpen) and not has_untried(exchange):
                failed = False
            if exchange.attempts > 1:
                status = response.status if response is not None else error.status_code  # type: ignore[union-attr]
                metrics.retries.labels(service, "ok" if status < 500 else "failed").inc()
            delay = _retry_delay(exchange, service, allowed) if failed else None
            if delay is None:
                if response is None:
                    raise error  # type: ignore[misc]
                return response
            if response is not None:
                ResponseBody(response).close()  # its connection, bulkhead slot and counts go back
            sleep(delay)
            exchange.attempts += 1

    def _retry_delay(exchange: Exchange, service: str, allowed: int) -> float | None:
        """The backoff before the next attempt, or ``None``: no attempt left, no time, no budget."""
        if exchange.attempts >= allowed:
            return None
        delay = options.backoff(exchange.attempts)
        if exchange.deadline is not None and exchange.deadline - clock() - delay < options.min_remaining_s:
            return None
        if not budget.try_spend(service):
            metrics.exhausted.labels(service).inc()
            return None
        return delay

    return step


def _read_body(exchange: Exchange) -> bytes | None:
    """The whole (small) request body, so each attempt can send it again."""
    length = exchange.content_length
    if exchange.body is None or not length:
        return None
    chunks: list[bytes] = []
    remaining = length
    while remaining > 0:
        chunk = exchange.body.read(min(_READ_CHUNK, remaining))
        if not chunk:
            raise BadGateway("client closed the connection before sending the whole body")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def report_attempts(exchange: Exchange, call_next: Handler) -> ProxyResponse:
    """``X-Upstream-Attempts`` on every answer that reached the retry step (errors included)."""
    response = call_next(exchange)
    if exchange.attempts:
        response.headers.append((ATTEMPTS_HEADER, str(exchange.attempts)))
    return response
