"""The breaker state machine alone, on a fake clock: when it opens, how it probes, what it adopts."""

from __future__ import annotations

import pytest

from ascep.common.errors import (
    BadGateway,
    CircuitOpen,
    DependencyUnavailable,
    InternalError,
    ServiceOverloaded,
    ServiceUnavailable,
    UpstreamTimeout,
)
from ascep.gateway.upstreams.breaker import (
    BreakerOptions,
    CircuitBreaker,
    Outcome,
    Refusal,
    SharedRecord,
    Ticket,
    outcome_of_error,
    outcome_of_status,
)
from support.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make(clock: FakeClock, **options: float) -> CircuitBreaker:
    return CircuitBreaker(BreakerOptions(**options), clock)  # type: ignore[arg-type]


def call(breaker: CircuitBreaker, outcome: Outcome) -> None:
    ticket = breaker.admit(shared=False)
    assert isinstance(ticket, Ticket), ticket
    breaker.record(ticket, outcome)


def trip(breaker: CircuitBreaker) -> None:
    for _ in range(breaker.options.min_volume):
        call(breaker, "failure")
    assert breaker.state == "open"


def test_nineteen_failures_of_nineteen_stay_below_the_minimum_volume(clock: FakeClock) -> None:
    breaker = make(clock)  # min_volume 20
    for _ in range(19):
        call(breaker, "failure")
    assert breaker.state == "closed"
    assert breaker.window() == (19, 19)
    call(breaker, "failure")
    assert breaker.state == "open"


def test_a_success_that_reaches_the_volume_opens_when_the_rate_is_over(clock: FakeClock) -> None:
    breaker = make(clock)
    for _ in range(19):
        call(breaker, "failure")
    call(breaker, "success")  # 19 of 20 failed: 95 %
    assert breaker.state == "open"
    [change] = breaker.drain_changes()
    assert (change.previous, change.state, change.volume, change.failure_rate) == ("closed", "open", 20, 0.95)


@pytest.mark.parametrize(("failures", "opens"), [(9, False), (10, True)])
def test_the_threshold_is_a_rate_over_the_window(clock: FakeClock, failures: int, opens: bool) -> None:
    breaker = make(clock)
    for _ in range(20 - failures):
        call(breaker, outcome_of_status(404))  # a 4xx is the client's fault: a success here
    for _ in range(failures):
        call(breaker, "failure")
    assert (breaker.state == "open") is opens


def test_failures_leave_the_window_as_it_slides(clock: FakeClock) -> None:
    breaker = make(clock, window_s=10.0, min_volume=4)
    for _ in range(3):
        call(breaker, "failure")
    clock.advance(11)
    call(breaker, "failure")
    assert breaker.state == "closed"
    assert breaker.window() == (1, 1)


def test_open_refuses_until_its_time_then_admits_exactly_the_probe_budget(clock: FakeClock) -> None:
    breaker = make(clock, min_volume=2, open_s=5.0, half_open_probes=3)
    trip(breaker)
    refusal = breaker.admit(shared=False)
    assert isinstance(refusal, Refusal)
    assert refusal.retry_after == pytest.approx(5.0)
    assert refusal.retry_after_header == 5
    clock.advance(5)
    verdicts = [breaker.admit(shared=False) for _ in range(10)]
    assert breaker.state == "half_open"
    probes = [v for v in verdicts if isinstance(v, Ticket)]
    assert len(probes) == 3
    assert all(p.probe for p in probes)
    assert all(isinstance(v, Refusal) for v in verdicts[3:])


def test_all_probes_succeeding_closes_with_a_fresh_window(clock: FakeClock) -> None:
    breaker = make(clock, min_volume=2, open_s=1.0, half_open_probes=3)
    trip(breaker)
    clock.advance(1)
    probes = [breaker.admit(shared=False) for _ in range(3)]
    for i, probe in enumerate(probes):
        assert isinstance(probe, Ticket)
        breaker.record(probe, "success")
        assert breaker.state == ("closed" if i == 2 else "half_open")
    assert breaker.window() == (0, 0)
    assert [(c.previous, c.state) for c in breaker.drain_changes()] == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]


def test_one_probe_failure_reopens_for_a_full_period(clock: FakeClock) -> None:
    breaker = make(clock, min_volume=2, open_s=5.0)
    trip(breaker)
    clock.advance(5)
    first, second = breaker.admit(shared=False), breaker.admit(shared=False)
    assert isinstance(first, Ticket)
    assert isinstance(second, Ticket)
    breaker.record(first, "success")
    breaker.record(second, "failure")
    assert breaker.state == "open"
    assert breaker.open_until == clock.now + 5.0


def test_an_ignored_probe_gives_its_slot_back(clock: FakeClock) -> None:
    breaker = make(clock, min_volume=2, open_s=1.0, half_open_probes=1)
    trip(breaker)
    clock.advance(1)
    probe = breaker.admit(shared=False)
    assert isinstance(probe, Ticket)
    assert isinstance(breaker.admit(shared=False), Refusal)
    breaker.record(probe, "ignored")
    assert isinstance(breaker.admit(shared=False), Ticket)


def test_probes_that_never_report_are_replaced_after_the_probe_timeout(clock: FakeClock) -> None:
    breaker = make(clock, min_volume=2, open_s=1.0, half_open_probes=2, probe_timeout_s=15.0)
    trip(breaker)
    clock.advance(1)
    lost = [breaker.admit(shared=False) for _ in range(2)]
    assert isinstance(breaker.admit(shared=False), Refusal)
    clock.advance(15)
    fresh = breaker.admit(shared=False)
    assert isinstance(fresh, Ticket)
    breaker.record(lost[0], "failure")  # a late report from the lost round changes nothing
    assert breaker.state == "half_open"


def test_calls_admitted_before_a_transition_do_not_count_after_it(clock: FakeClock) -> None:
    breaker = make(clock, min_volume=2, open_s=1.0, half_open_probes=1)
    slow = breaker.admit(shared=False)
    assert isinstance(slow, Ticket)
    trip(breaker)
    clock.advance(1)
    probe = breaker.admit(shared=False)
    assert isinstance(probe, Ticket)
    breaker.record(probe, "success")
    assert breaker.state == "closed"
    breaker.record(slow, "failure")  # admitted in the old closed period
    assert breaker.window() == (0, 0)


def test_the_shared_mode_leaves_probe_slots_to_the_store(clock: FakeClock) -> None:
    breaker = make(clock, min_volume=2, open_s=1.0)
    assert isinstance(breaker.admit(shared=True), Ticket)  # closed: no store involved
    trip(breaker)
    assert isinstance(breaker.admit(shared=True), Refusal)  # open and not expired: local answer
    clock.advance(1)
    assert breaker.admit(shared=True) is None  # only the store can hand out a probe


def test_a_newer_shared_record_is_adopted_and_an_older_one_ignored(clock: FakeClock) -> None:
    breaker = make(clock)
    opened = SharedRecord("open", generation=100, open_until=clock.now + 5, reason="elsewhere")
    change = breaker.apply(opened, authoritative=False)
    assert change is not None
    assert (change.previous, change.state, breaker.generation) == ("closed", "open", 100)
    assert breaker.apply(SharedRecord("closed", generation=99), authoritative=False) is None
    assert breaker.state == "open"
    refusal = breaker.admit(shared=True)
    assert isinstance(refusal, Refusal)
    assert refusal.retry_after == pytest.approx(5)


def test_a_state_decided_without_redis_survives_a_resync_of_the_same_generation(clock: FakeClock) -> None:
    breaker = make(clock, min_volume=2)
    breaker.apply(SharedRecord("closed", generation=7), authoritative=False)
    trip(breaker)  # Redis was unreachable: opened here alone
    assert breaker.local_only
    breaker.apply(SharedRecord("closed", generation=7), authoritative=False)
    assert breaker.state == "open"
    breaker.apply(SharedRecord("closed", generation=7), authoritative=True)  # the store answered
    assert breaker.state == "closed"
    assert not breaker.local_only


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (UpstreamTimeout("t", {"service": "s"}), "failure"),
        (ServiceUnavailable("refused", {"service": "s"}), "failure"),
        (BadGateway("invalid answer", {"service": "s"}), "failure"),
        (BadGateway("client closed the connection before sending the whole body"), "ignored"),
        (ServiceOverloaded("bulkhead full", {"service": "s"}), "ignored"),
        (DependencyUnavailable("redis"), "ignored"),
        (CircuitOpen("open", {"service": "s"}, 1), "ignored"),
        (InternalError("bug"), "ignored"),
        (RuntimeError("bug"), "ignored"),
    ],
)
def test_what_counts_against_an_instance(error: BaseException, outcome: Outcome) -> None:
    assert outcome_of_error(error) == outcome


@pytest.mark.parametrize(("status", "outcome"), [(200, "success"), (404, "success"), (499, "success"),
                                                 (500, "failure"), (503, "failure"), (504, "failure")])
def test_only_5xx_answers_count_as_failures(status: int, outcome: Outcome) -> None:
    assert outcome_of_status(status) == outcome


@pytest.mark.parametrize(
    "bad", [{"window_s": 0}, {"failure_rate": 0}, {"failure_rate": 1.5}, {"min_volume": 0},
            {"open_s": 0}, {"half_open_probes": 0}, {"probe_timeout_s": -1}],
)
def test_options_out_of_range_name_the_option(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        BreakerOptions(**bad)  # type: ignore[arg-type]
