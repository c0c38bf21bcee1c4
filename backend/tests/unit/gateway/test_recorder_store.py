"""Buffered latency samples reach a real Redis, survive its outage, and stay bounded."""

from __future__ import annotations

import time

import pytest
import redis

from ascep.common import channels
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS, connect
from ascep.gateway.latency.recorder import LatencyRecorder, Sample
from ascep.gateway.latency.store import LatencyStore
from support.redis_server import RedisServer


def sample(ms: float, status: int = 200, endpoint: str = "/prices", age_ms: int = 0) -> Sample:
    return Sample("price_feed", endpoint, "GET", status, ms / 1000, int(time.time() * 1000) - age_ms)


def test_samples_round_trip_exactly(redis_url: str) -> None:
    store = LatencyStore(connect(redis_url), retention_seconds=60, max_samples=1000)
    store.write([sample(1.5), sample(2.25, 503), sample(3.0)])
    key = channels.latency_key("price_feed", "/prices")
    got = store.read([key], since_ms=0)[key]
    assert sorted(got) == [(1.5, 200), (2.25, 503), (3.0, 200)]


def test_retention_and_cap_bound_memory(redis_url: str, redis_client: redis.Redis) -> None:
    store = LatencyStore(connect(redis_url), retention_seconds=10, max_samples=100)
    store.write([sample(9, age_ms=20_000)])  # already outside retention
    store.write([sample(i, age_ms=250 - i) for i in range(250)])  # one per millisecond, oldest first
    key = channels.latency_key("price_feed", "/prices")
    assert redis_client.zcard(key) == 100
    kept = sorted(d for d, _ in store.read([key], since_ms=0)[key])
    assert kept == [float(i) for i in range(150, 250)], "the oldest are trimmed first"
    assert 0 < redis_client.pttl(key) <= 10_000
    assert redis_client.smembers(channels.LATENCY_INDEX_KEY) == {key}


def test_outage_keeps_samples_until_redis_returns(tmp_path) -> None:
    server = RedisServer(tmp_path / "r", persistent=True).start()
    try:
        store = LatencyStore(connect(server.url), retention_seconds=60, max_samples=1000)
        recorder = LatencyRecorder(store, buffer_max=1000, flush_interval=0.05)
        recorder.record(sample(1))
        assert recorder.flush() == 1
        server.stop(kill=True)
        for i in range(5):
            recorder.record(sample(10 + i))
        with pytest.raises(REDIS_UNAVAILABLE_ERRORS):
            recorder.flush()
        assert recorder.pending == 5
        server.start()
        assert recorder.flush() == 5
        key = channels.latency_key("price_feed", "/prices")
        assert len(store.read([key], since_ms=0)[key]) == 6
    finally:
        server.stop()


def test_full_buffer_drops_oldest_and_counts() -> None:
    class Down:
        def write(self, samples: list[Sample]) -> None:
            raise redis.ConnectionError("down")

    recorder = LatencyRecorder(Down(), buffer_max=3, flush_interval=0.05)
    for i in range(5):
        recorder.record(sample(i))
    with pytest.raises(redis.ConnectionError):
        recorder.flush()
    assert recorder.pending == 3
    assert recorder.dropped == 2
