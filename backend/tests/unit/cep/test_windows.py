"""The shared window: bounds, time eviction, running sums and extrema."""

from __future__ import annotations

import statistics

import pytest

from ascep.cep.durations import to_ms
from ascep.cep.errors import RuleError
from ascep.cep.patterns.windows import Window


def test_extrema_follow_evictions() -> None:
    window = Window(capacity=3, track_extrema=True)
    for ts, value in enumerate([5.0, 1.0, 4.0, 3.0, 2.0]):
        window.add(ts, value, {})
    assert [item[1] for item in window.items] == [4.0, 3.0, 2.0]
    assert window.min_item()[1] == 2.0  # type: ignore[index]
    assert window.max_item()[1] == 4.0  # type: ignore[index]
    assert window.sum == pytest.approx(9.0)


def test_time_eviction_keeps_the_edge() -> None:
    window = Window(capacity=100, size_ms=1000)
    for ts in (0, 500, 1000):
        window.add(ts, 1.0, {})
    window.expire(1000)
    assert len(window) == 3
    window.expire(1001)
    assert len(window) == 2


def test_stddev_matches_statistics() -> None:
    values = [1.0, 2.5, -0.5, 4.0, 3.3]
    window = Window(capacity=10, track_variance=True)
    for ts, value in enumerate(values):
        window.add(ts, value, {})
    assert window.stddev() == pytest.approx(statistics.stdev(values))
    assert window.mean() == pytest.approx(statistics.mean(values))


DURATIONS = [(30, 30_000), (0.5, 500), ("500ms", 500), ("5m", 300_000), ("1.5h", 5_400_000),
             ("2d", 172_800_000), (" 10s ", 10_000)]  # fmt: skip


@pytest.mark.parametrize(("raw", "ms"), DURATIONS)
def test_durations(raw: object, ms: int) -> None:
    assert to_ms(raw, "$.x") == ms


@pytest.mark.parametrize("raw", [True, -1, "10", "10 years", None])
def test_bad_durations(raw: object) -> None:
    with pytest.raises(RuleError):
        to_ms(raw, "$.x")
