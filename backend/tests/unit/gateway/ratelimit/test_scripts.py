"""The Lua algorithms on a real Redis, step by step against oracles on the same simulated clock.

The scripts are built with the time taken from an argument (``build(..., clock="argument")``:
the same body the gateway runs, only the first lines differ), so random arrival sequences can be
replayed exactly. Oracles: the ``limits`` package's moving window (an exact sliding log, its
clock pointed at the simulated one) for ``sliding_window``, and the textbook virtual-scheduling
GCRA (ITU-T I.371) written out here for ``gcra``.
"""

from __future__ import annotations

import random
from types import SimpleNamespace

import limits.storage.memory
import pytest
import redis
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from ascep.gateway.ratelimit.scripts import GCRA, SLIDING_WINDOW, build

SECOND_US = 1_000_000


def arrivals(seed: int, count: int, span_s: float) -> list[int]:
    """Sorted random arrival times in µs (bursts and gaps), starting far from zero."""
    rng = random.Random(seed)
    now, times = 1_700_000_000 * SECOND_US, []
    for _ in range(count):
        now += int(rng.expovariate(count / span_s) * SECOND_US) + rng.choice((0, 0, 1, 7))
        times.append(now)
    return times


def no_exact_boundaries(times: list[int], window_us: int) -> bool:
    # the oracle counts an entry exactly one window old as inside, the script as outside;
    # a sequence hitting that boundary to the microsecond would compare conventions, not logic
    stamps = set(times)
    return not any(t + window_us in stamps for t in times)


@pytest.mark.parametrize(
    ("seed", "quota", "window_s"), [(1, 5, 2), (2, 10, 1), (3, 3, 5), (4, 20, 3), (5, 1, 1)]
)
def test_sliding_window_matches_the_limits_moving_window(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch, seed: int, quota: int, window_s: int
) -> None:
    script = redis_client.register_script(build("sliding_window", clock="argument"))
    times = arrivals(seed, 400, 12 * window_s)
    assert no_exact_boundaries(times, window_s * SECOND_US)
    clock = SimpleNamespace(now=0.0)
    monkeypatch.setattr(limits.storage.memory, "time", SimpleNamespace(time=lambda: clock.now))
    oracle = MovingWindowRateLimiter(MemoryStorage())
    item = RateLimitItemPerSecond(quota, window_s)
    accepted = 0
    for index, now in enumerate(times):
        clock.now = now / SECOND_US
        expected = oracle.hit(item, "client")
        allowed, remaining, wait_us = script(
            keys=["t:sw"], args=[quota, window_s * SECOND_US, f"n{index}", now]
        )
        assert bool(allowed) == expected, f"request {index} at {now}"
        _, in_window = oracle.storage.get_moving_window(item.key_for("client"), quota, window_s)
        assert remaining == quota - in_window
        assert 0 < wait_us <= window_s * SECOND_US
        accepted += expected
    assert 0 < accepted < len(times)  # the sequence exercised both answers


class VirtualScheduling:
    """GCRA as ITU-T I.371 states it: conforming iff TAT <= t + L; then TAT = max(t, TAT) + T."""

    def __init__(self, interval: float, burst: int) -> None:
        self.interval, self.limit, self.tat = interval, (burst - 1) * interval, 0.0

    def arrive(self, t: float) -> bool:
        if self.tat > t + self.limit:
            return False
        self.tat = max(t, self.tat) + self.interval
        return True


@pytest.mark.parametrize(
    ("seed", "rate", "burst"), [(1, 5.0, 5), (2, 10.0, 20), (3, 0.5, 3), (4, 3.0, 1), (5, 100.0, 10)]
)
def test_gcra_matches_virtual_scheduling(
    redis_client: redis.Redis, seed: int, rate: float, burst: int
) -> None:
    script = redis_client.register_script(build("gcra", clock="argument"))
    interval = SECOND_US / rate
    times = arrivals(seed, 400, 400 / rate / 1.5)  # 1.5x the sustained rate: both answers occur
    oracle = VirtualScheduling(interval, burst)
    answers = set()
    for index, now in enumerate(times):
        expected = oracle.arrive(now)
        allowed, remaining, wait_us = script(keys=["t:gcra"], args=[interval, burst, now])
        assert bool(allowed) == expected, f"request {index}"
        assert 0 <= remaining < burst
        if not expected:
            # the refusal's wait is exactly when the oracle would accept again
            assert oracle.arrive(now + wait_us - 1) is False
            assert VirtualScheduling.arrive(_copy(oracle), now + wait_us + 1)
        answers.add(expected)
    assert answers == {True, False}


def _copy(oracle: VirtualScheduling) -> VirtualScheduling:
    clone = VirtualScheduling(oracle.interval, 1)
    clone.limit, clone.tat = oracle.limit, oracle.tat
    return clone


def test_the_production_scripts_take_redis_time(redis_client: redis.Redis) -> None:
    sliding = redis_client.register_script(SLIDING_WINDOW)
    gcra = redis_client.register_script(GCRA)
    hour = 3600 * SECOND_US
    answers = [sliding(keys=["p:sw"], args=[3, hour, f"n{i}"]) for i in range(4)]
    assert [a[0] for a in answers] == [1, 1, 1, 0]
    assert [a[1] for a in answers] == [2, 1, 0, 0]
    assert hour - SECOND_US < answers[-1][2] <= hour  # the oldest leaves in about an hour
    assert redis_client.pttl("p:sw") > (hour // 1000) - 5000  # the log expires with its window
    answers = [gcra(keys=["p:gcra"], args=[hour / 3, 3]) for _ in range(4)]
    assert [a[0] for a in answers] == [1, 1, 1, 0]
    assert [a[1] for a in answers] == [2, 1, 0, 0]
    assert 0 < answers[-1][2] <= hour / 3  # one more in at most 20 minutes


def test_a_raised_gcra_limit_applies_at_once(redis_client: redis.Redis) -> None:
    gcra = redis_client.register_script(build("gcra", clock="argument"))
    now = 1_700_000_000 * SECOND_US
    for _ in range(3):
        gcra(keys=["r:gcra"], args=[600 * SECOND_US, 3, now])  # 3 per 30 minutes: all taken
    assert gcra(keys=["r:gcra"], args=[600 * SECOND_US, 3, now])[0] == 0
    allowed, remaining, _ = gcra(keys=["r:gcra"], args=[SECOND_US / 1000, 1000, now + 1])
    assert allowed == 1  # raised to 1000/s: not held back by the stricter limit's 30 minutes
    assert remaining == 0  # but it starts from an empty bucket
