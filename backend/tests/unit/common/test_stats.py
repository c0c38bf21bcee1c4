"""Every percentile in ASCEP is the nearest-rank one: the value at rank ⌈p/100·n⌉ of the sorted samples."""

from __future__ import annotations

import pytest

from ascep.cep.stats import RuleStats
from ascep.common.stats import nearest_rank

TEN = [float(v) for v in range(1, 11)]


@pytest.mark.parametrize(("percentile", "rank"), [(50, 5), (95, 10), (99, 10), (100, 10), (10, 1), (11, 2)])
def test_nearest_rank_of_ten_values(percentile: float, rank: int) -> None:
    assert nearest_rank(TEN, percentile) == TEN[rank - 1]


@pytest.mark.parametrize(
    ("percentile", "expected"),
    [(50, 50), (95, 95), (99, 99), (100, 100), (1, 1), (0.5, 1), (7, 7), (99.9, 100)],
)
def test_nearest_rank_on_1_to_100(percentile: float, expected: float) -> None:
    """A whole rank is that rank exactly, even where p/100·n is not exact in floating point."""
    assert nearest_rank([float(v) for v in range(1, 101)], percentile) == expected


def test_nearest_rank_small_sets_return_observed_values() -> None:
    assert nearest_rank([10.0, 20.0, 30.0], 50) == 20.0
    assert nearest_rank([10.0, 20.0, 30.0], 99) == 30.0
    assert nearest_rank([7.0], 95) == 7.0
    assert nearest_rank([7.0], 1) == 7.0
    assert nearest_rank([1, 2, 3, 4], 50) == 2
    assert nearest_rank([5.0], 99) == 5.0


def test_nearest_rank_of_nothing_is_none() -> None:
    assert nearest_rank([], 50) is None


@pytest.mark.parametrize("bad", [0, -1, 100.1])
def test_nearest_rank_rejects_out_of_range(bad: float) -> None:
    with pytest.raises(ValueError, match="percentile"):
        nearest_rank([1.0], bad)
    with pytest.raises(ValueError, match="percentile"):
        nearest_rank([], bad)


def test_cep_rule_p99_is_the_nearest_rank() -> None:
    """The CEP used ``int(q·n)``: one rank high whenever q·n is whole (the 100th of 100, not the 99th)."""
    stats = RuleStats()
    for us in range(1, 101):
        stats.record_time(us * 1000)
    assert stats.as_dict()["eval_p99_us"] == 99.0
