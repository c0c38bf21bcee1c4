"""Latency statistics are exact nearest-rank figures."""

from __future__ import annotations

import pytest

from ascep.gateway.latency.stats import is_error, nearest_rank, summarize


@pytest.mark.parametrize(
    ("percentile", "expected"),
    [(50, 50), (95, 95), (99, 99), (100, 100), (1, 1), (0.5, 1)],
)
def test_nearest_rank_on_1_to_100(percentile: float, expected: float) -> None:
    assert nearest_rank([float(v) for v in range(1, 101)], percentile) == expected


def test_nearest_rank_small_sets_return_observed_values() -> None:
    assert nearest_rank([10.0, 20.0, 30.0], 50) == 20.0
    assert nearest_rank([10.0, 20.0, 30.0], 99) == 30.0
    assert nearest_rank([7.0], 95) == 7.0


@pytest.mark.parametrize("bad", [0, -1, 100.1])
def test_nearest_rank_rejects_out_of_range(bad: float) -> None:
    with pytest.raises(ValueError, match="percentile"):
        nearest_rank([1.0], bad)


def test_summary_counts_5xx_as_errors_only() -> None:
    samples = [(10.0, 200), (20.0, 404), (30.0, 502), (40.0, 504)]
    summary = summarize(samples).as_dict()
    assert summary == {
        "count": 4,
        "error_count": 2,
        "error_rate": 0.5,
        "avg_ms": 25.0,
        "min_ms": 10.0,
        "max_ms": 40.0,
        "p50_ms": 20.0,
        "p95_ms": 40.0,
        "p99_ms": 40.0,
    }
    assert not is_error(499)
    assert is_error(500)


def test_empty_summary_has_no_figures() -> None:
    summary = summarize([]).as_dict()
    assert summary["count"] == 0
    assert summary["error_rate"] is None
    assert summary["p99_ms"] is None
