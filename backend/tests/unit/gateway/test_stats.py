"""Latency statistics are exact nearest-rank figures."""

from __future__ import annotations

from ascep.gateway.latency.stats import is_error, summarize


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
