"""The circuit breaker of one upstream instance: CLOSED / OPEN / HALF_OPEN, as plain Python.

Why hand-written: pybreaker serialises every call through a lock held around the call, counts
consecutive failures rather than a rate over a window, and shares state in a way that can stay
stuck open (danielfm/pybreaker#24); aiobreaker and circuitbreaker share neither state nor probes.
Here the breaker is only *asked* before a call and *told* after it; nothing is held during it.

The model is Envoy's and Hystrix's: each gateway process counts outcomes in its own sliding
window (no Redis round trip per call), and opens on its own observations; a transition is then
shared through Redis (:mod:`.breaker_store`), where the half-open probe budget also lives so that
exactly ``half_open_probes`` calls reach a recovering instance across all processes. This class
also runs the whole machine alone (probes counted locally) for when Redis is unreachable.

Times are epoch seconds from an injected clock: the open period ends at the same instant for
every process (tests pass a fake clock).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ascep.common.errors import (
    BadGateway,
    CircuitOpen,
    DependencyUnavailable,
    ServiceOverloaded,
    ServiceUnavailable,
    UpstreamTimeout,
)

State = Literal["closed", "open", "half_open"]
#: What one call says about the instance: ``ignored`` calls neither count nor use up a probe.
Outcome = Literal["success", "failure", "ignored"]

#: The ``/metrics`` gauge value of each state.
STATE_VALUES: dict[State, int] = {"closed": 0, "half_open": 1, "open": 2}

#: ``Retry-After`` while half-open with every probe slot taken: the probes answer within a
#: read timeout, after which the breaker is closed (or open again with a known end).
HALF_OPEN_RETRY_S = 1.0


@dataclass(frozen=True, slots=True)
class BreakerOptions:
    """When a breaker opens and how it recovers (the integrator maps a service's policy here)."""

    window_s: float = 10.0  # sliding window of outcomes the failure rate is computed over
    failure_rate: float = 0.5  # opens at this share of failures (0..1] ...
    min_volume: int = 20  # ... once at least this many calls are in the window
    open_s: float = 5.0  # stays open this long, then half-open
    half_open_probes: int = 3  # calls let through while half-open (all gateways together)
    probe_timeout_s: float = 15.0  # a half-open round whose probes never report starts over
    buckets: int = 10  # the window rolls in window_s / buckets steps

    def __post_init__(self) -> None:
        checks = {
            "window_s": self.window_s > 0,
            "failure_rate": 0 < self.failure_rate <= 1,
            "min_volume": self.min_volume >= 1,
            "open_s": self.open_s > 0,
            "half_open_probes": self.half_open_probes >= 1,
            "probe_timeout_s": self.probe_timeout_s > 0,
            "buckets": self.buckets >= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"BreakerOptions.{name}: {getattr(self, name)!r} is out of range")


@dataclass(frozen=True, slots=True)
class SharedRecord:
    """A breaker as Redis holds it; ``generation`` orders records (higher is newer)."""

    state: State
    generation: int
    open_until: float = 0.0
    probe_deadline: float = 0.0
    reason: str | None = None
    failure_rate: float | None = None
    volume: int | None = None


@dataclass(frozen=True, slots=True)
class Ticket:
    """Permission for one call; ``epoch`` ties its outcome to the state it was admitted in."""

    epoch: int
    probe: bool = False
    generation: int = 0  # the shared half-open round a probe belongs to


@dataclass(frozen=True, slots=True)
class Refusal:
    """The call must not go out; the client may retry after ``retry_after`` seconds."""

    retry_after: float

    @property
    def retry_after_header(self) -> int:
        return max(1, math.ceil(self.retry_after))


@dataclass(frozen=True, slots=True)
class Transition:
    previous: State
    state: State
    reason: str
    failure_rate: float | None = None
    volume: int | None = None


class RollingWindow:
    """Calls and failures over the last ``span`` seconds, in ``buckets`` rolling buckets."""

    __slots__ = ("_slots", "_width")

    def __init__(self, span: float, buckets: int) -> None:
        self._width = span / buckets
        self._slots = [[-1, 0, 0] for _ in range(buckets)]  # [bucket index, calls, failures]

    def add(self, now: float, failed: bool) -> None:
        index = int(now // self._width)
        slot = self._slots[index % len(self._slots)]
        if slot[0] != index:
            slot[0], slot[1], slot[2] = index, 0, 0
        slot[1] += 1
        slot[2] += failed

    def counts(self, now: float) -> tuple[int, int]:
        """``(calls, failures)`` in the buckets still inside the window."""
        oldest = int(now // self._width) - len(self._slots)
        calls = failures = 0
        for index, n, failed in self._slots:
            if index > oldest:
                calls += n
                failures += failed
        return calls, failures

    def reset(self) -> None:
        for slot in self._slots:
            slot[0], slot[1], slot[2] = -1, 0, 0


class CircuitBreaker:
    """One instance's breaker. Not thread-safe: the caller holds a lock around each method."""

    def __init__(self, options: BreakerOptions, clock: Callable[[], float] = time.time) -> None:
        self.options = options
        self.clock = clock
        self.state: State = "closed"
        self.generation = 0  # last shared generation known (0: none yet)
        self.epoch = 0  # bumped on every change of state or half-open round
        self.open_until = 0.0
        self.probe_deadline = 0.0
        self.local_only = False  # the current state was decided here while Redis was unreachable
        self.exhausted = False  # the shared half-open round has no probe slot left
        self._changes: list[Transition] = []
        self._window = RollingWindow(options.window_s, options.buckets)
        self._budget = 0
        self._successes = 0

    # --- before a call ---------------------------------------------------------------------
    def admit(self, *, shared: bool) -> Ticket | Refusal | None:
        """May a call go out now? ``None`` (``shared`` only): ask the store for a probe slot."""
        if self.state == "closed":
            return Ticket(self.epoch)
        now = self.clock()
        if self.state == "open" and now < self.open_until:
            return Refusal(self.open_until - now)
        if shared:
            if self.state == "half_open" and self.exhausted and now < self.probe_deadline:
                return Refusal(HALF_OPEN_RETRY_S)
            return None
        return self._admit_probe_locally(now)

    def _admit_probe_locally(self, now: float) -> Ticket | Refusal:
        if self.state == "open":
            self._enter("half_open", Transition("open", "half_open", "open period elapsed"))
            self.local_only = True
            self._new_round(now)
        elif now >= self.probe_deadline:  # probes of the last round never reported back
            self.epoch += 1
            self._new_round(now)
        if self._budget > 0:
            self._budget -= 1
            return Ticket(self.epoch, probe=True)
        return Refusal(HALF_OPEN_RETRY_S)

    def _new_round(self, now: float) -> None:
        self._budget = self.options.half_open_probes
        self._successes = 0
        self.probe_deadline = now + self.options.probe_timeout_s

    # --- after a call ----------------------------------------------------------------------
    def record(self, ticket: Ticket, outcome: Outcome) -> Transition | None:
        """Count one outcome; the transition it caused, if any. Stale tickets are ignored."""
        if ticket.epoch != self.epoch:
            return None
        if ticket.probe:
            return self._record_probe(outcome) if self.state == "half_open" else None
        if outcome == "ignored" or self.state != "closed":
            return None
        now = self.clock()
        self._window.add(now, outcome == "failure")
        calls, failures = self._window.counts(now)
        if calls < self.options.min_volume or failures < self.options.failure_rate * calls:
            return None
        rate = failures / calls
        transition = Transition(
            "closed",
            "open",
            f"{failures} of {calls} calls failed in {self.options.window_s:g} s "
            f"(threshold {self.options.failure_rate:.0%}, minimum {self.options.min_volume} calls)",
            round(rate, 4),
            calls,
        )
        self._open(now, transition)
        return transition

    def _record_probe(self, outcome: Outcome) -> Transition | None:
        if outcome == "ignored":
            self._budget += 1
            return None
        if outcome == "failure":
            transition = Transition("half_open", "open", "a half-open probe failed")
            self._open(self.clock(), transition)
            return transition
        self._successes += 1
        if self._successes < self.options.half_open_probes:
            return None
        transition = Transition(
            "half_open", "closed", f"{self.options.half_open_probes} half-open probes succeeded"
        )
        self._enter("closed", transition)
        return transition

    def _open(self, now: float, transition: Transition) -> None:
        self._enter("open", transition)
        self.open_until = now + self.options.open_s
        self.local_only = True  # until the shared store confirms it (apply)

    def _enter(self, state: State, transition: Transition) -> None:
        self.state = state
        self.epoch += 1
        self.exhausted = False
        self._changes.append(transition)
        if state == "closed":
            self._window.reset()
            self.open_until = self.probe_deadline = 0.0

    # --- shared state ----------------------------------------------------------------------
    def apply(self, record: SharedRecord, *, authoritative: bool) -> Transition | None:
        """Adopt the shared record when newer (or ``authoritative``: a store reply just now).

        Returns the transition when the state changed. A record older than what this process
        knows (a late pub/sub message) is ignored; a state decided here while Redis was
        unreachable is kept until the store itself answers.
        """
        if not (authoritative or record.generation > self.generation):
            return None
        new_round = record.generation != self.generation
        self.generation = record.generation
        self.local_only = False
        self.open_until = record.open_until
        self.probe_deadline = record.probe_deadline
        if record.state == self.state:
            if new_round and self.state == "half_open":
                self.epoch += 1
                self.exhausted = False
                self._new_round(self.clock())
                self.probe_deadline = record.probe_deadline
            return None
        transition = Transition(
            self.state, record.state, record.reason or "", record.failure_rate, record.volume
        )
        self._enter(record.state, transition)
        self.open_until = record.open_until
        self.probe_deadline = record.probe_deadline
        if record.state == "half_open":
            self._new_round(self.clock())
            self.probe_deadline = record.probe_deadline
        return transition

    def drain_changes(self) -> list[Transition]:
        """The state changes since the last call (each reported once: logs, metrics, listeners)."""
        changes, self._changes = self._changes, []
        return changes

    def window(self) -> tuple[int, int]:
        """``(calls, failures)`` in this process's current window."""
        return self._window.counts(self.clock())


def outcome_of_status(status: int) -> Outcome:
    """An answer counts against the instance only when it is a 5xx (4xx: the client's fault)."""
    return "failure" if status >= 500 else "success"


def outcome_of_error(exc: BaseException) -> Outcome:
    """What an error raised below the breaker step says about the instance.

    Timeouts, refused connections and invalid answers count. Refusals of our own (bulkhead
    ``SERVICE_OVERLOADED``, another breaker, Redis unavailable) say nothing about the instance,
    nor does a client that hangs up mid-upload (the forwarder's ``BadGateway`` without a
    ``service``) or a bug in the gateway.
    """
    if isinstance(exc, ServiceOverloaded | DependencyUnavailable | CircuitOpen):
        return "ignored"
    if isinstance(exc, UpstreamTimeout | ServiceUnavailable):
        return "failure"
    if isinstance(exc, BadGateway):
        return "failure" if exc.details.get("service") else "ignored"
    return "ignored"
