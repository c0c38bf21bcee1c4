"""Latency time series: aligned buckets, samples in the right bucket, per service."""

from __future__ import annotations

import pytest

from ascep.common.errors import BadRequest
from ascep.common.query import int_arg
from ascep.gateway.latency.report import MAX_BUCKETS, bucket_bounds, time_series


def test_buckets_are_aligned_cover_the_window_and_end_after_now() -> None:
    start, step = bucket_bounds(now_ms=1_000_123_456, window_seconds=60, buckets=60)
    assert step == 1000
    assert start % step == 0
    assert start + 60 * step >= 1_000_123_456 > start + 59 * step
    assert start <= 1_000_123_456 - 60_000 + step  # the window, to within one bucket
    # A poll a little later shares the buckets (same boundaries, shifted by whole steps).
    later_start, _ = bucket_bounds(now_ms=1_000_125_000, window_seconds=60, buckets=60)
    assert (later_start - start) % step == 0


def test_samples_land_in_their_bucket_per_service() -> None:
    timed = {
        "k:a:/x": [(1000, 10.0, 200), (1500, 30.0, 500), (2999, 5.0, 200)],
        "k:b:/y": [(2000, 7.0, 200), (9000, 1.0, 200)],  # 9000: outside the series
    }
    series = time_series(timed, {"k:a:/x": "a", "k:b:/y": "b"}, start_ms=1000, step_ms=1000, buckets=2)
    assert [b["start_ts"] for b in series] == [1000, 2000]
    first, second = series
    assert first["overall"]["count"] == 2
    assert first["overall"]["error_count"] == 1
    assert first["services"]["a"]["max_ms"] == 30.0
    assert first["services"]["b"]["count"] == 0
    assert second["overall"]["count"] == 2
    assert second["services"]["a"]["count"] == 1
    assert second["services"]["b"]["min_ms"] == 7.0


def parse_buckets(raw: str | None) -> int | None:
    """``?buckets=`` as the latency view reads it."""
    return int_arg("buckets", None, 1, MAX_BUCKETS, {} if raw is None else {"buckets": raw})


@pytest.mark.parametrize("raw", ["0", "361", "ten", "-1"])
def test_bad_bucket_counts_are_rejected(raw: str) -> None:
    with pytest.raises(BadRequest):
        parse_buckets(raw)
    assert parse_buckets(None) is None
    assert parse_buckets("60") == 60
