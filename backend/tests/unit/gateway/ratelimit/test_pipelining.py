"""Pipelined checks on a real Redis, with real threads: exact under concurrency, batched, and never
left waiting when Redis dies, forgets the script, or the sender stops."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from ascep.gateway.ratelimit.connections import LimiterConnections
from ascep.gateway.ratelimit.limiter import RateLimiter
from ascep.gateway.ratelimit.outage import RedisOutage
from ascep.gateway.ratelimit.pipelining import Pipeline, RedisDown
from ascep.gateway.ratelimit.policy import Policy
from ascep.gateway.ratelimit.spec import parse_limit
from ascep.gateway.ratelimit.table import PolicyTable
from support.redis_server import RedisServer


def spawn(function: Callable[..., Any], *args: Any) -> None:
    threading.Thread(target=function, args=args, daemon=True).start()


def pipelined_limiter(url: str, limit: str = "100/1h") -> RateLimiter:
    connections = LimiterConnections(url, timeout=0.5, size=8, wait_s=5)
    table = PolicyTable({"svc": Policy("svc", parse_limit(limit), "default")}, "gcra")
    limiter = RateLimiter(connections, table, RedisOutage(connections.ping, fail_open=True))
    limiter.pipeline.start(spawn)
    return limiter


def hammer(limiter: RateLimiter, threads: int, each: int, identity: str = "ip:192.0.2.1") -> Counter[str]:
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def work() -> None:
        start.wait()
        for _ in range(each):
            decision = limiter.check("svc", identity)
            assert decision is not None
            with lock:
                outcomes[decision.outcome] += 1

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return outcomes


def test_exact_under_concurrency_and_actually_batched(redis_url: str) -> None:
    limiter = pipelined_limiter(redis_url)
    try:
        assert hammer(limiter, threads=32, each=20) == {"allowed": 100, "limited": 540}
        assert limiter.pipeline.batches > 0
        assert limiter.pipeline.batched > limiter.pipeline.batches  # several checks per pipeline
    finally:
        limiter.pipeline.stop()


def test_a_forgotten_script_is_run_with_eval(redis_url: str, redis_client: redis.Redis) -> None:
    limiter = pipelined_limiter(redis_url, limit="1000/1h")
    try:
        assert hammer(limiter, threads=8, each=5) == {"allowed": 40}
        redis_client.script_flush()  # what a Redis restart does
        assert hammer(limiter, threads=8, each=5) == {"allowed": 40}
    finally:
        limiter.pipeline.stop()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


def test_redis_killed_under_concurrency_leaves_nobody_waiting(own_redis: RedisServer) -> None:
    limiter = pipelined_limiter(own_redis.url, limit="1000000/s")
    try:
        assert hammer(limiter, threads=16, each=10) == {"allowed": 160}
        own_redis.stop(kill=True)
        started = time.monotonic()
        outcomes = hammer(limiter, threads=16, each=10)
        assert time.monotonic() - started < 5  # every one decided; none hung
        assert outcomes == {"failed_open": 160}
        assert limiter.outage.outages == 1
    finally:
        limiter.pipeline.stop()


def test_stopping_releases_whoever_waits(redis_url: str) -> None:
    connections = LimiterConnections(redis_url, timeout=0.5, size=2, wait_s=5)
    pipeline = Pipeline(connections, lambda: True)
    pipeline.start(spawn)
    pipeline._in_flight = 1  # as if a call were on the wire: the next one queues
    results: list[BaseException | object] = []

    def queued() -> None:
        try:
            results.append(pipeline.call(("PING",)))
        except RedisDown as exc:
            results.append(exc)

    waiter = threading.Thread(target=queued)
    waiter.start()
    pipeline.stop()
    waiter.join(timeout=5)
    assert not waiter.is_alive()
    assert len(results) == 1  # answered (PING) or released: never left waiting
