"""Status hysteresis: blips degrade, streaks of failures make unhealthy, recovery needs a streak."""

from __future__ import annotations

import pytest

from ascep.health.hysteresis import StatusTracker, Thresholds


def run(outcomes: list[str], unhealthy_after: int = 3, recover_after: int = 2) -> list[str]:
    tracker = StatusTracker(Thresholds(unhealthy_after, recover_after))
    seen = []
    for outcome in outcomes:
        tracker.observe(outcome)  # type: ignore[arg-type]
        seen.append(tracker.status)
    return seen


def test_first_success_makes_healthy() -> None:
    assert run(["healthy"]) == ["healthy"]


def test_failures_degrade_then_make_unhealthy_after_the_threshold() -> None:
    assert run(["healthy", "failed", "failed", "failed", "failed"]) == [
        "healthy",
        "degraded",
        "degraded",
        "unhealthy",
        "unhealthy",
    ]


def test_one_blip_recovers_only_after_enough_successes() -> None:
    assert run(["healthy", "failed", "healthy", "healthy"]) == ["healthy", "degraded", "degraded", "healthy"]


def test_unhealthy_needs_consecutive_successes_interrupted_streak_restarts() -> None:
    statuses = run(["failed"] * 3 + ["healthy", "failed", "healthy", "healthy"], recover_after=2)
    assert statuses[2] == "unhealthy"
    assert statuses[3:] == ["unhealthy", "unhealthy", "unhealthy", "healthy"]


def test_reported_degraded_applies_at_once_and_recovery_needs_the_streak() -> None:
    assert run(["healthy", "degraded", "healthy", "healthy"]) == [
        "healthy",
        "degraded",
        "degraded",
        "healthy",
    ]


@pytest.mark.parametrize(
    ("outcomes", "changes"), [(["healthy"] * 3, 1), (["healthy", "failed", "failed"], 2)]
)
def test_observe_reports_only_real_changes(outcomes: list[str], changes: int) -> None:
    tracker = StatusTracker(Thresholds(unhealthy_after=5, recover_after=2))
    assert sum(tracker.observe(o) for o in outcomes) == changes  # type: ignore[arg-type]


def observe_in_grace(outcomes: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """(outcome, in_grace) pairs -> (status, counted) after each."""
    tracker = StatusTracker(Thresholds(unhealthy_after=2, recover_after=2))
    seen = []
    for outcome, in_grace in outcomes:
        tracker.observe(outcome, in_grace)  # type: ignore[arg-type]
        seen.append((tracker.status, tracker.counted))
    return seen


def test_not_listening_during_the_grace_is_starting_and_not_counted() -> None:
    assert observe_in_grace([("failed", True), ("failed", True), ("healthy", True)]) == [
        ("starting", False),
        ("starting", False),
        ("healthy", True),
    ]


def test_a_target_never_up_when_the_grace_ends_fails_normally() -> None:
    assert observe_in_grace([("failed", True), ("failed", False), ("failed", False)]) == [
        ("starting", False),
        ("degraded", True),
        ("unhealthy", True),
    ]


def test_a_target_that_answered_once_gets_no_grace() -> None:
    """A crash right after start-up is downtime, not "starting"."""
    assert observe_in_grace([("degraded", True), ("failed", True)]) == [
        ("degraded", True),
        ("degraded", True),
    ]
