"""The ``circuit_breaker`` proxy step and a board without Redis (every breaker decides alone)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial

import pytest

from ascep.common.errors import ServiceOverloaded, ServiceUnavailable
from ascep.gateway.proxy import steps
from ascep.gateway.proxy.exchange import Exchange, ProxyResponse
from ascep.gateway.proxy.pipeline import build_pipeline
from ascep.gateway.routing import ServiceRegistry
from ascep.gateway.upstreams.breaker import BreakerOptions
from ascep.gateway.upstreams.breakers import BreakerBoard
from ascep.gateway.upstreams.model import Upstream, UpstreamKey
from support.clock import FakeClock
from unit.gateway.test_steps import make_exchange, ok

KEY = UpstreamKey("price_feed", "127.0.0.1:5002")
OPTIONS = BreakerOptions(min_volume=5, open_s=3.0, half_open_probes=2)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def changes() -> list[tuple[UpstreamKey, str]]:
    return []


@pytest.fixture
def board(clock: FakeClock, changes: list[tuple[UpstreamKey, str]]) -> BreakerBoard:
    """Breakers without Redis (``store=None``): each decides on this process's calls alone."""
    return BreakerBoard(
        lambda _service: OPTIONS, None, clock=clock, on_state=lambda k, s: changes.append((k, s))
    )


@pytest.fixture
def proxy(board: BreakerBoard) -> Callable[[Callable[[Exchange], ProxyResponse]], ProxyResponse]:
    """Send one call through resolve_route -> circuit_breaker -> ``terminal``, errors rendered."""
    registry = ServiceRegistry()
    registry.register_service(name="price_feed", port=5002, endpoints=["/prices"])
    key_of = partial(steps.upstream_key, static_instances={"price_feed": "127.0.0.1:5002"})

    def send(terminal: Callable[[Exchange], ProxyResponse]) -> ProxyResponse:
        pipeline = build_pipeline(
            [steps.render_errors, steps.resolve_route(registry), steps.circuit_breaker(board, key_of)],
            terminal,
        )
        return pipeline(make_exchange("/prices/x"))

    return send


def failing(status: int) -> Callable[[Exchange], ProxyResponse]:
    return lambda _exchange: ProxyResponse(status, "", [], [b""])


def raising(error: Exception) -> Callable[[Exchange], ProxyResponse]:
    def terminal(_exchange: Exchange) -> ProxyResponse:
        raise error

    return terminal


def test_an_open_breaker_answers_503_circuit_open_without_calling_the_service(
    proxy: Callable[..., ProxyResponse], board: BreakerBoard, changes: list[tuple[UpstreamKey, str]]
) -> None:
    for _ in range(5):
        assert proxy(failing(500)).status == 500
    assert board.state(KEY) == "open"
    assert changes == [(KEY, "open")]

    calls: list[Exchange] = []
    response = proxy(lambda exchange: calls.append(exchange) or ok(exchange))
    assert calls == []
    assert response.status == 503
    assert ("Retry-After", "3") in response.headers
    body = json.loads(b"".join(response.body))
    assert body["error"]["code"] == "CIRCUIT_OPEN"
    assert body["error"]["details"] == {
        "service": "price_feed",
        "instance": "127.0.0.1:5002",
        "state": "open",
        "retry_after_s": 3,
    }
    assert board.refused[KEY] == 1
    assert board.transitions[(KEY, "closed", "open")] == 1
    assert sum(board.refusal_buckets) == 1


def test_the_gateways_own_refusals_never_open_the_breaker(
    proxy: Callable[..., ProxyResponse], board: BreakerBoard
) -> None:
    for _ in range(50):
        assert proxy(raising(ServiceOverloaded("full", {"service": "price_feed"}))).status == 503
    assert board.state(KEY) == "closed"
    assert board.breaker(KEY).window() == (0, 0)  # neither a failure nor volume
    for _ in range(5):
        proxy(raising(ServiceUnavailable("refused", {"service": "price_feed"})))
    assert board.state(KEY) == "open"


def test_probes_close_it_again_after_the_open_period(
    proxy: Callable[..., ProxyResponse], board: BreakerBoard, clock: FakeClock
) -> None:
    for _ in range(5):
        proxy(failing(502))
    clock.advance(3)
    assert proxy(ok).status == 200
    assert board.state(KEY) == "half_open"
    assert proxy(ok).status == 200
    assert board.state(KEY) == "closed"
    status = board.status()
    assert status["breakers"][str(KEY)]["state"] == "closed"
    assert status["shared"] is False


def test_the_selected_upstream_names_the_breaker() -> None:
    exchange = make_exchange("/prices/x")
    registry = ServiceRegistry()
    registry.register_service(name="price_feed", port=5002, endpoints=["/prices"])
    exchange.route = registry.match("/prices/x")
    fallback = {"price_feed": "localhost:5002"}
    assert steps.upstream_key(exchange, fallback) == UpstreamKey("price_feed", "localhost:5002")
    exchange.upstream = Upstream("price_feed", "pf-2", "http://10.0.0.2:5002", source="discovered")
    assert steps.upstream_key(exchange, fallback) == UpstreamKey("price_feed", "pf-2")
