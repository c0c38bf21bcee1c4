"""Passive outlier ejection: streaks, ejection times and the share limit (envoy#3263)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ascep.gateway.upstreams.model import Upstream
from ascep.gateway.upstreams.outliers import (
    EjectionState,
    OutlierOptions,
    Outliers,
    ejection_seconds,
    max_ejectable,
)

OPTIONS = OutlierOptions()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(n: int, options: OutlierOptions = OPTIONS) -> tuple[Outliers, list[Upstream], Clock, list[str]]:
    instances = [Upstream("svc", f"i{i}", f"http://h{i}:1") for i in range(n)]
    clock, ejected = Clock(), []
    outliers = Outliers(
        lambda _s: options,
        lambda _s: instances,
        lambda u, _prev: ejected.append(u.instance_id),
        clock=clock,
    )
    return outliers, instances, clock, ejected


def fail(outliers: Outliers, upstream: Upstream, times: int) -> list[bool]:
    return [outliers.observe(upstream, True) for _ in range(times)]


def test_defaults_are_envoys() -> None:
    assert (OPTIONS.consecutive_failures, OPTIONS.base_ejection_s, OPTIONS.max_ejection_s) == (5, 30.0, 300.0)
    assert OPTIONS.max_ejected_share == 0.34


@pytest.mark.parametrize(
    ("n", "share", "allowed"),
    [
        (1, 0.34, 0),  # the only instance: nothing to route to instead
        (2, 0.34, 1),  # a plain floor would give 0: a pair could never lose its bad half
        (3, 0.34, 1),  # envoy#3263: not 2 (33 % < 34 % checked before counting the new one)
        (3, 0.67, 2),
        (3, 1.0, 2),  # never all of them
        (10, 0.34, 3),
        (30, 0.1, 3),  # 0.1 x 30 is 2.9999… in floating point
        (5, 0.0, 0),
    ],
)
def test_max_ejectable(n: int, share: float, allowed: int) -> None:
    assert max_ejectable(n, share) == allowed


@pytest.mark.parametrize(("times", "seconds"), [(1, 30), (2, 60), (3, 90), (10, 300), (50, 300)])
def test_ejection_time_grows_with_each_ejection_and_is_capped(times: int, seconds: float) -> None:
    assert ejection_seconds(times, OPTIONS) == seconds


def test_five_consecutive_failures_eject_for_thirty_seconds() -> None:
    outliers, (a, _b, _c), clock, ejected = make(3)
    assert fail(outliers, a, 5) == [False, False, False, False, True]
    assert ejected == ["i0"]
    assert a.ejected_until == clock.now + 30
    assert a.times_ejected == 1


def test_a_success_breaks_the_streak() -> None:
    outliers, (a, _b, _c), _clock, ejected = make(3)
    fail(outliers, a, 4)
    outliers.observe(a, False)
    fail(outliers, a, 4)
    assert ejected == []


def test_calls_finishing_while_ejected_do_not_start_a_new_streak() -> None:
    outliers, (a, _b, _c), clock, _ejected = make(3)
    fail(outliers, a, 5)
    fail(outliers, a, 20)
    assert outliers.streak(a) == 0
    clock.now = a.ejected_until  # back
    assert fail(outliers, a, 5)[-1]
    assert a.times_ejected == 2
    assert a.ejected_until == clock.now + 60  # the next streak ejects it for longer


def test_times_ejected_starts_over_after_behaving_for_the_max_ejection_time() -> None:
    outliers, (a, _b, _c), clock, _ejected = make(3)
    for _ in range(3):
        fail(outliers, a, 5)
        clock.now = a.ejected_until
    assert a.times_ejected == 3
    clock.now += OPTIONS.max_ejection_s
    fail(outliers, a, 5)
    assert (a.times_ejected, a.ejected_until - clock.now) == (1, 30)


@pytest.mark.parametrize("n", [2, 3])
def test_small_clusters_lose_at_most_one_instance(n: int) -> None:
    outliers, instances, clock, ejected = make(n)
    for upstream in instances:
        fail(outliers, upstream, 5)
    assert ejected == ["i0"]
    assert sum(u.ejected_until > clock.now for u in instances) == 1
    assert outliers.refused >= 1


def test_a_refused_ejection_is_retried_once_another_instance_is_back() -> None:
    outliers, (a, b, _c), clock, ejected = make(3)
    fail(outliers, a, 5)
    fail(outliers, b, 5)
    assert ejected == ["i0"]
    clock.now = a.ejected_until
    assert outliers.observe(b, True)  # the streak was kept: one more failure is enough
    assert ejected == ["i0", "i1"]


def test_no_ejection_when_no_other_instance_is_routable() -> None:
    outliers, (a, b, c), _clock, ejected = make(3, OutlierOptions(max_ejected_share=1.0))
    b.healthy = c.healthy = False  # active checks already took the others out
    fail(outliers, a, 10)
    assert ejected == []


def test_a_single_instance_is_never_ejected() -> None:
    outliers, (a,), _clock, ejected = make(1)
    fail(outliers, a, 50)
    assert ejected == []


def test_ejection_state_restores_a_refused_ejection() -> None:
    outliers, (a, _b, _c), _clock, _ejected = make(3)
    before = EjectionState.of(a)
    fail(outliers, a, 5)
    before.restore(a)
    assert (a.ejected_until, a.times_ejected) == (0.0, 0)


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=12),
    share=st.floats(min_value=0.0, max_value=1.0),
    events=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=11), st.booleans(), st.floats(min_value=0, max_value=120)
        ),
        max_size=200,
    ),
)
def test_never_more_than_the_share_is_ejected(
    n: int, share: float, events: list[tuple[int, bool, float]]
) -> None:
    """Whatever calls fail or succeed and however time passes, the limit always holds."""
    outliers, instances, clock, _ejected = make(n, OutlierOptions(max_ejected_share=share))
    limit = max_ejectable(n, share)
    for index, failed, advance in events:
        clock.now += advance
        outliers.observe(instances[index % n], failed)
        out = sum(u.ejected_until > clock.now for u in instances)
        assert out <= limit
        assert out < n or n == 0


@settings(max_examples=300, deadline=None)
@given(events=st.lists(st.tuples(st.integers(0, 2), st.booleans(), st.floats(0, 60)), max_size=300))
def test_three_instances_at_34_percent_never_lose_more_than_one(
    events: list[tuple[int, bool, float]],
) -> None:
    """The issue's case: 3 instances, max ejection share 34 %."""
    outliers, instances, clock, _ejected = make(3)
    for index, failed, advance in events:
        clock.now += advance
        outliers.observe(instances[index], failed)
        assert sum(u.ejected_until > clock.now for u in instances) <= 1
