"""The retry step alone: plain functions stand in for selection and the service."""

from __future__ import annotations

import io
import time

import pytest
from prometheus_client import CollectorRegistry

from ascep.common.errors import (
    BadGateway,
    CircuitOpen,
    NoHealthyUpstream,
    ServiceOverloaded,
    ServiceUnavailable,
    UpstreamTimeout,
)
from ascep.gateway.proxy.exchange import Exchange, ProxyResponse
from ascep.gateway.proxy.retries import RetryMetrics, RetryOptions, retry, should_retry
from ascep.gateway.routing import Route, ServiceRegistry
from ascep.gateway.upstreams.model import Upstream
from ascep.gateway.upstreams.retry_budget import RetryBudget

from .test_steps import make_exchange

OPTIONS = RetryOptions(
    max_attempts=3, backoff_base_s=0.025, backoff_cap_s=0.25, min_remaining_s=0.025, max_body_bytes=64
)


class Service:
    """Answers each attempt from a script and records what it received."""

    def __init__(self, *outcomes: int | Exception) -> None:
        self.outcomes = list(outcomes)
        self.bodies: list[bytes] = []
        self.excluded: list[frozenset[str]] = []

    def __call__(self, exchange: Exchange) -> ProxyResponse:
        self.excluded.append(exchange.tried)
        exchange.upstream = Upstream("svc", f"i{len(self.bodies)}", "http://x:1")
        self.bodies.append(exchange.body.read() if exchange.body else b"")
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return ProxyResponse(outcome, "", [], [b""])


def routed(method: str = "GET", body: bytes = b"", **overrides: object) -> Exchange:
    registry = ServiceRegistry()
    definition = registry.register_service(name="svc", port=1, endpoints=["/svc"])
    exchange = make_exchange(
        "/svc/x", method, body=io.BytesIO(body), content_length=len(body) or None, **overrides
    )
    exchange.route = Route("/svc", definition)
    return exchange


def step(budget: RetryBudget | None = None, slept: list[float] | None = None):  # type: ignore[no-untyped-def]
    budget = budget or RetryBudget(ratio=1.0, min_per_second=100, window_s=10)
    sleeps = slept if slept is not None else []
    return retry(
        OPTIONS, budget, RetryMetrics(CollectorRegistry()), max_attempts={}, sleep=sleeps.append
    )


def test_a_post_without_key_is_sent_once_whatever_happens() -> None:
    service = Service(BadGateway("reset"))
    exchange = routed("POST", b"pay")
    with pytest.raises(BadGateway):
        step()(exchange, service)
    assert service.bodies == [b"pay"]
    assert exchange.attempts == 1


def test_a_post_with_key_is_replayed_to_other_instances() -> None:
    service = Service(BadGateway("reset"), 503, 200)
    exchange = routed("POST", b"pay", headers=[("Idempotency-Key", "k1")])
    slept: list[float] = []
    response = step(slept=slept)(exchange, service)
    assert response.status == 200
    assert service.bodies == [b"pay"] * 3, "the same body every attempt"
    assert service.excluded == [frozenset(), {"i0"}, {"i0", "i1"}]
    assert exchange.attempts == 3
    assert 0 <= slept[0] <= 0.025, "full jitter"
    assert 0 <= slept[1] <= 0.05, "doubling"


def test_a_body_over_the_replay_limit_is_streamed_and_not_retried() -> None:
    service = Service(503)
    response = step()(routed("PUT", b"x" * 65), service)
    assert response.status == 503
    assert len(service.bodies) == 1


def test_attempts_stop_at_the_limit_and_the_last_answer_is_the_clients() -> None:
    service = Service(503, 502, 504)
    response = step()(routed(), service)
    assert (response.status, len(service.bodies)) == (504, 3)


def test_no_retry_without_budget() -> None:
    budget = RetryBudget(ratio=0.0, min_per_second=0, window_s=10)
    service = Service(503, 200)
    assert step(budget)(routed(), service).status == 503
    assert budget.exhausted == {"svc": 1}


def test_no_retry_starts_with_less_than_the_minimum_left() -> None:
    service = Service(503, 200)
    exchange = routed()
    exchange.deadline = time.perf_counter() + 0.02  # below min_remaining_s
    assert step()(exchange, service).status == 503
    assert len(service.bodies) == 1


@pytest.mark.parametrize(
    ("outcome", "retried"),
    [
        (BadGateway("reset"), True),
        (ServiceUnavailable("refused"), True),
        (CircuitOpen("open", {}, retry_after=1), True),
        (UpstreamTimeout("slow", {"phase": "connect"}), True),
        (UpstreamTimeout("slow", {"phase": "read"}), False),
        (UpstreamTimeout("late", {"phase": "deadline"}), False),
        (ServiceOverloaded("full"), False),
        (NoHealthyUpstream("none"), False),
    ],
)
def test_which_errors_are_retried(outcome: Exception, retried: bool) -> None:
    assert should_retry(None, outcome) is retried  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "retried"), [(200, False), (500, False), (502, True), (503, True), (504, True)]
)
def test_which_statuses_are_retried(status: int, retried: bool) -> None:
    assert should_retry(ProxyResponse(status, "", [], []), None) is retried


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_budget_allows_ratio_of_requests_plus_a_rate() -> None:
    clock = Clock()
    budget = RetryBudget(ratio=0.2, min_per_second=10, window_s=10, clock=clock)
    for _ in range(100):
        budget.note_request("svc")
    spent = sum(budget.try_spend("svc") for _ in range(100))
    assert spent == 30  # 0.2 * 100 + 10 * 1 second
    clock.now += 1
    assert sum(budget.try_spend("svc") for _ in range(100)) == 10, "one more second: 10 more"
    clock.now += 10  # everything left the window
    assert budget.window("svc") == (0, 0, 1)


def test_budget_counts_survive_a_failed_sync_and_merge_with_redis_sums() -> None:
    clock = Clock()
    budget = RetryBudget(ratio=0.0, min_per_second=5, window_s=10, clock=clock)
    budget.note_request("svc")
    assert budget.try_spend("svc")
    budget.take_unsent()
    assert budget.window("svc")[:2] == (1, 1), "counted while the sync is in flight"
    budget.give_back()
    assert budget.window("svc")[:2] == (1, 1)
    budget.take_unsent()
    budget.adopt({"svc": {1000: (7, 4)}})  # the cluster's sums (this process's included)
    assert budget.window("svc")[:2] == (7, 4)
    assert sum(budget.try_spend("svc") for _ in range(5)) == 1, "5/s minus the cluster's 4"


@pytest.mark.parametrize(("untried", "attempts"), [(False, 1), (True, 2)])
def test_an_open_breaker_is_retried_only_when_another_instance_is_left(untried: bool, attempts: int) -> None:
    service = Service(CircuitOpen("open", {}, retry_after=1), 200)
    retrying = retry(
        OPTIONS,
        RetryBudget(ratio=1.0, min_per_second=100, window_s=10),
        RetryMetrics(CollectorRegistry()),
        max_attempts={},
        sleep=lambda _s: None,
        has_untried=lambda _exchange: untried,
    )
    exchange = routed()
    if untried:
        assert retrying(exchange, service).status == 200
    else:
        with pytest.raises(CircuitOpen):
            retrying(exchange, service)
    assert exchange.attempts == attempts
