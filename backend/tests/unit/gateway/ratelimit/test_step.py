"""The ``rate_limit`` step on a real Redis: identities kept apart, headers on every answer,
refusals in the envelope, and a Redis that dies decided at once in both fail modes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ascep.common.errors import AscepError, BadGateway, DependencyUnavailable, RateLimited
from ascep.gateway.auth.principal import Principal
from ascep.gateway.client_address import ClientAddresses, parse_trusted
from ascep.gateway.proxy.exchange import Exchange, ProxyResponse
from ascep.gateway.proxy.steps import error_response
from ascep.gateway.ratelimit.connections import LimiterConnections
from ascep.gateway.ratelimit.limiter import RateLimiter
from ascep.gateway.ratelimit.outage import RedisOutage
from ascep.gateway.ratelimit.policy import Policy
from ascep.gateway.ratelimit.spec import parse_limit
from ascep.gateway.ratelimit.step import rate_limit
from ascep.gateway.ratelimit.table import PolicyTable
from ascep.gateway.routing import ServiceRegistry
from support.redis_server import RedisServer

REGISTRY = ServiceRegistry()
SVC = REGISTRY.register_service("svc", 5010, ["/svc"])
FREE = REGISTRY.register_service("free", 5011, ["/free"])
ROUTE = REGISTRY.match("/svc")
FREE_ROUTE = REGISTRY.match("/free")


def limiter_for(
    url: str, *, fail_open: bool = True, limit: str = "2/1h", timeout: float = 0.1
) -> RateLimiter:
    connections = LimiterConnections(url, timeout=timeout, size=8, wait_s=5)
    table = PolicyTable(
        {
            "svc": Policy("svc", parse_limit(limit), "default"),
            "free": Policy("free", parse_limit("off"), "default"),
        },
        "gcra",
    )
    return RateLimiter(connections, table, RedisOutage(connections.ping, fail_open=fail_open))


def exchange(
    principal: Principal | None = None, addr: str = "192.0.2.1", headers=(), route=ROUTE
) -> Exchange:
    return Exchange(
        request_id="rid",
        method="GET",
        path="/svc",
        raw_path="/svc",
        query="",
        headers=list(headers),
        body=None,
        content_length=None,
        chunked=False,
        client_addr=addr,
        scheme="http",
        host="gw",
        started=time.perf_counter(),
        route=route,
        principal=principal,
    )


def ok(_exchange: Exchange) -> ProxyResponse:
    return ProxyResponse(200, "OK", [("Content-Type", "text/plain")], [b"ok"])


def answer(step, ex: Exchange, call_next=ok) -> ProxyResponse:
    """What the client gets: the step's answer, or its error as ``render_errors`` renders it."""
    try:
        return step(ex, call_next)
    except AscepError as error:
        return error_response(error, ex.request_id)


def header(response: ProxyResponse, name: str) -> str | None:
    return next((v for n, v in response.headers if n.lower() == name.lower()), None)


def test_each_identity_has_its_own_budget(redis_url: str) -> None:
    step = rate_limit(limiter_for(redis_url), ClientAddresses())
    callers = [
        Principal("api_key", "key:k1", frozenset({"read"}), key_id="k1"),
        Principal("api_key", "key:k2", frozenset({"read"}), key_id="k2"),
        Principal("jwt", "alice", frozenset({"read"})),
        Principal("jwt", "k1", frozenset({"read"})),  # a subject named like a key id is another caller
        None,  # anonymous at 192.0.2.1
    ]
    for caller in callers:
        statuses = [answer(step, exchange(caller)).status for _ in range(3)]
        assert statuses == [200, 200, 429], caller
    # another address, and an API key used from another address: the key is what counts
    assert answer(step, exchange(None, addr="192.0.2.2")).status == 200
    assert answer(step, exchange(callers[0], addr="198.51.100.7")).status == 429


def test_headers_on_success_on_errors_below_and_on_the_refusal(redis_url: str) -> None:
    step = rate_limit(limiter_for(redis_url, limit="2/1h"), ClientAddresses())
    first = answer(step, exchange())
    assert header(first, "RateLimit-Policy") == '"svc";q=2;w=3600'
    assert header(first, "RateLimit") == '"svc";r=1;t=1800'

    def broken(_ex: Exchange) -> ProxyResponse:
        raise BadGateway("the service answered garbage")

    failed = answer(step, exchange(), broken)
    assert failed.status == 502
    assert header(failed, "RateLimit") == '"svc";r=0;t=1800'
    refused = answer(step, exchange())
    assert refused.status == 429
    body = b"".join(refused.body)
    assert b'"code":"RATE_LIMITED"' in body
    assert b'"request_id":"rid"' in body
    retry_after = int(header(refused, "Retry-After") or 0)
    assert 1790 <= retry_after <= 1800
    assert header(refused, "RateLimit") == f'"svc";r=0;t={retry_after}'


def test_an_unlimited_target_adds_nothing(redis_url: str) -> None:
    step = rate_limit(limiter_for(redis_url), ClientAddresses())
    response = answer(step, exchange(route=FREE_ROUTE))
    assert response.status == 200
    assert header(response, "RateLimit-Policy") is None


def test_forwarded_for_counts_only_from_a_trusted_proxy(redis_url: str) -> None:
    spoofed = [("X-Forwarded-For", "203.0.113.1")], [("X-Forwarded-For", "203.0.113.2")]
    untrusting = rate_limit(limiter_for(redis_url, limit="1/1h"), ClientAddresses())
    assert answer(untrusting, exchange(headers=spoofed[0])).status == 200
    assert answer(untrusting, exchange(headers=spoofed[1])).status == 429  # same peer, same budget
    trusting = rate_limit(
        limiter_for(redis_url, limit="1/1h"), ClientAddresses(parse_trusted(["10.0.0.0/8"]))
    )
    assert answer(trusting, exchange(addr="10.0.0.2", headers=spoofed[0])).status == 200
    assert answer(trusting, exchange(addr="10.0.0.2", headers=spoofed[1])).status == 200
    assert answer(trusting, exchange(addr="10.0.0.3", headers=spoofed[1])).status == 429


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test alone, which it kills and brings back."""
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.mark.parametrize("fail_open", [True, False])
def test_redis_killed_is_decided_at_once_and_recovery_is_automatic(
    own_redis: RedisServer, fail_open: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="ascep.gateway.ratelimit.outage")
    limiter = limiter_for(own_redis.url, fail_open=fail_open, limit="3/1h")
    step = rate_limit(limiter, ClientAddresses())
    assert answer(step, exchange()).status == 200
    own_redis.stop(kill=True)
    durations, statuses = [], []
    for _ in range(50):
        started = time.perf_counter()
        response = answer(step, exchange())
        durations.append(time.perf_counter() - started)
        statuses.append(response.status)
    assert set(statuses) == ({200} if fail_open else {503})
    durations.sort()
    # decided locally: well within 5 ms (the 95th percentile, so a descheduled test process on a
    # loaded machine cannot fail it), and not one call waited for the Redis timeout (100 ms)
    assert durations[int(len(durations) * 0.95)] < 0.005, durations
    assert durations[-1] < 0.05, durations
    assert limiter.outage.status()["outages"] == 1
    assert limiter.outage.decided_without_redis == 50
    assert sum("Redis unreachable" in r.getMessage() for r in caplog.records) == 1  # once per outage
    if not fail_open:
        refused = answer(step, exchange())
        assert b'"code":"DEPENDENCY_UNAVAILABLE"' in b"".join(refused.body)
        assert header(refused, "Retry-After") == "1"
        assert header(refused, "RateLimit") is None
        assert header(refused, "RateLimit-Policy")

    own_redis.start()
    assert limiter.outage.probe()  # what the background loop does every 250 ms
    statuses = [answer(step, exchange()).status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]  # limits are checked in Redis again (its data was lost)
    assert sum("answers again" in r.getMessage() for r in caplog.records) == 1


def test_a_hung_redis_costs_one_timeout_then_nothing(own_redis: RedisServer) -> None:
    limiter = limiter_for(own_redis.url, timeout=0.05)
    step = rate_limit(limiter, ClientAddresses())
    assert answer(step, exchange()).status == 200
    assert own_redis.process is not None
    own_redis.process.send_signal(19)  # SIGSTOP: connections stay open, nothing answers
    try:
        started = time.perf_counter()
        assert answer(step, exchange()).status == 200  # fail open after the 50 ms timeout
        assert 0.04 < time.perf_counter() - started < 1.0
        started = time.perf_counter()
        for _ in range(20):
            assert answer(step, exchange()).status == 200
        assert time.perf_counter() - started < 0.2  # no further waiting for Redis
    finally:
        own_redis.process.send_signal(18)  # SIGCONT


def test_an_unexpected_redis_error_is_decided_by_the_fail_mode(
    redis_url: str, redis_client: redis.Redis
) -> None:
    limiter = limiter_for(redis_url, fail_open=False)
    step = rate_limit(limiter, ClientAddresses())
    redis_client.config_set("maxmemory", "1")  # every write refused: OOM
    try:
        with pytest.raises(DependencyUnavailable):
            step(exchange(), ok)
    finally:
        redis_client.config_set("maxmemory", "0")
    assert limiter.outage.up  # Redis answered: not an outage
    for _ in range(2):
        step(exchange(), ok)
    with pytest.raises(RateLimited):
        step(exchange(), ok)
