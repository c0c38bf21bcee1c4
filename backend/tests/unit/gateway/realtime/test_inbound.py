"""The token bucket behind the per-connection message limit."""

from __future__ import annotations

from ascep.gateway.realtime.inbound import TokenBucket


def test_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=10.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert not bucket.take(0.05), "half a token is not a token"
    assert bucket.take(0.1)
    assert not bucket.take(0.1)


def test_idle_time_saves_up_at_most_the_burst() -> None:
    bucket = TokenBucket(rate=10.0, burst=3, now=0.0)
    for _ in range(3):
        bucket.take(0.0)
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]

