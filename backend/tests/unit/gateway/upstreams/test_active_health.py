"""Rise/fall hysteresis of active health checks (pure logic, no I/O)."""

from __future__ import annotations

import pytest

from ascep.gateway.upstreams.active_health import (
    HISTORY_LENGTH,
    TRANSITIONS_LENGTH,
    CheckResult,
    HealthCheckOptions,
    HealthTracker,
)
from ascep.gateway.upstreams.model import Upstream

OPTIONS = HealthCheckOptions()  # rise 2, fall 3


def instance(name: str = "a") -> Upstream:
    return Upstream("svc", name, f"http://{name}:1")


def feed(tracker: HealthTracker, upstream: Upstream, outcomes: str) -> list[bool | None]:
    """``outcomes`` like ``"+-+"``: one check each, ``+`` passed; the transitions they caused."""
    return [
        tracker.record(upstream, CheckResult(c == "+", float(i)), OPTIONS) for i, c in enumerate(outcomes)
    ]


def test_defaults_are_haproxys() -> None:
    assert (OPTIONS.interval, OPTIONS.rise, OPTIONS.fall, OPTIONS.path) == (2.0, 2, 3, "/health")


def test_an_instance_starts_routable_and_reports_unknown_until_checked() -> None:
    tracker, upstream = HealthTracker(), instance()
    assert upstream.healthy
    assert tracker.report(upstream)["status"] == "unknown"
    feed(tracker, upstream, "+")
    assert tracker.report(upstream)["status"] == "healthy"


@pytest.mark.parametrize(
    ("outcomes", "healthy_after"),
    [
        ("--", True),  # two failures: not yet
        ("---", False),  # the third marks it unhealthy
        ("--+--", True),  # a success breaks the streak
        ("---+", False),  # one success is not enough to come back
        ("---++", True),  # rise: two in a row
        ("---+-+", False),  # not in a row
    ],
)
def test_rise_and_fall(outcomes: str, healthy_after: bool) -> None:
    tracker, upstream = HealthTracker(), instance()
    feed(tracker, upstream, outcomes)
    assert upstream.healthy is healthy_after


def test_each_transition_is_reported_once() -> None:
    tracker, upstream = HealthTracker(), instance()
    assert feed(tracker, upstream, "-----++++") == [None, None, False, None, None, None, True, None, None]


def test_adopting_a_shared_transition_restarts_the_streaks() -> None:
    tracker, upstream = HealthTracker(), instance()
    feed(tracker, upstream, "--")
    assert tracker.adopt(upstream, False, 10.0)
    assert not tracker.adopt(upstream, False, 11.0)  # already so: nothing changes
    assert feed(tracker, upstream, "+") == [None]  # needs its own full rise
    assert not upstream.healthy
    report = tracker.report(upstream)
    assert report["status"] == "unhealthy"
    assert report["consecutive_successes"] == 1


def test_history_keeps_the_latest_results_newest_first() -> None:
    tracker, upstream = HealthTracker(), instance()
    feed(tracker, upstream, "+" * HISTORY_LENGTH + "-")
    checks = tracker.report(upstream)["checks"]
    assert len(checks) == HISTORY_LENGTH
    assert checks[0]["ok"] is False
    assert all(c["ok"] for c in checks[1:])


def test_forget_drops_instances_that_are_gone() -> None:
    tracker, a, b = HealthTracker(), instance("a"), instance("b")
    feed(tracker, a, "--")
    feed(tracker, b, "--")
    tracker.forget([b.key])
    assert tracker.report(a)["consecutive_failures"] == 0
    assert tracker.report(b)["consecutive_failures"] == 2


@pytest.mark.parametrize("bad", [{"rise": 0}, {"fall": 0}, {"interval": 0}, {"timeout": -1}])
def test_options_refuse_nonsense(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="health check"):
        HealthCheckOptions(**bad)  # type: ignore[arg-type]


def test_rises_and_falls_are_kept_newest_first_and_say_who_decided() -> None:
    """The dashboard's flap history: each transition once, with whether this process decided it."""
    tracker, upstream = HealthTracker(), instance()
    feed(tracker, upstream, "---++")  # fall at check 2, rise at check 4
    tracker.adopt(upstream, False, at=10.0)  # another process saw it fail again
    transitions = tracker.report(upstream)["transitions"]
    assert [(t["to"], t["decided"]) for t in transitions] == [
        ("unhealthy", "shared"),
        ("healthy", "here"),
        ("unhealthy", "here"),
    ]
    assert transitions[0]["at"] == "1970-01-01T00:00:10.000Z"
    assert transitions[2]["at"] == "1970-01-01T00:00:02.000Z"


def test_transition_history_is_bounded() -> None:
    tracker, upstream = HealthTracker(), instance()
    feed(tracker, upstream, "---++" * 20)  # 40 transitions
    assert len(tracker.report(upstream)["transitions"]) == TRANSITIONS_LENGTH
