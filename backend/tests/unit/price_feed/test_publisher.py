"""The publisher's buffer policy, without Redis (the flusher is not started)."""

from __future__ import annotations

from ascep.common.events import PriceUpdate
from ascep.price_feed.publisher import RedisPublisher


def unreachable() -> None:
    raise AssertionError("the buffer must not touch Redis")


def publisher(capacity: int) -> RedisPublisher:
    return RedisPublisher(unreachable, history_maxlen=10, capacity=capacity, batch_size=3)  # type: ignore[arg-type]


def record(price: float) -> PriceUpdate:
    return PriceUpdate("BTCUSDT", price, None, None, None, "binance", 1)


def test_full_buffer_drops_the_oldest_and_counts_it() -> None:
    pub = publisher(capacity=3)
    for price in range(5):
        pub.submit(record(price), 0)
    assert pub.pending() == 3
    assert (pub.submitted, pub.dropped) == (5, 2)
    assert [r.price for r, _ in pub._take()] == [2, 3, 4]


def test_failed_batch_goes_back_in_front_within_capacity() -> None:
    pub = publisher(capacity=4)
    for price in range(4):
        pub.submit(record(price), 0)
    batch = pub._take()  # 0, 1, 2 (batch_size 3)
    pub.submit(record(4), 0)
    pub.submit(record(5), 0)
    pub._requeue(batch)  # room for 1 of 3: keep the newest
    assert [r.price for r, _ in pub._take()] == [2, 3, 4]
    assert pub.dropped == 2


def test_status_before_any_write() -> None:
    status = publisher(capacity=5).status()
    assert status["redis_up"] is None
    assert status["publish_latency_ms"] == {"p50": None, "p99": None, "samples": 0}
