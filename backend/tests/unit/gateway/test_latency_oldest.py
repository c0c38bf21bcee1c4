"""Since when latency data exists (``data_since`` of ``GET /api/latency``), against a real Redis."""

from __future__ import annotations

import time

import redis

from ascep.common import channels
from ascep.gateway.latency.recorder import Sample
from ascep.gateway.latency.store import LatencyStore


def test_oldest_sample_over_several_keys_and_none_when_empty(redis_client: redis.Redis) -> None:
    store = LatencyStore(redis_client, retention_seconds=3600, max_samples=100)
    a, b = channels.latency_key("svc", "/a"), channels.latency_key("svc", "/b")
    assert store.oldest_ms([a, b]) is None
    assert store.oldest_ms([]) is None
    now = int(time.time() * 1000)
    store.write(
        [Sample("svc", "/a", "GET", 200, 0.01, now - 5000), Sample("svc", "/b", "GET", 200, 0.02, now - 9000)]
    )
    store.write([Sample("svc", "/a", "GET", 200, 0.01, now)])
    assert store.oldest_ms([a, b]) == now - 9000
    assert store.oldest_ms([a]) == now - 5000
