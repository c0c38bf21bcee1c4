"""Active health checks per instance, with HAProxy's rise/fall hysteresis.

Two halves, so the decision logic is unit-testable without I/O:

* :class:`HealthTracker` — pure: feeds one check result at a time into an instance's rise/fall
  counters, keeps the last results (the history ``/api/services`` shows) and says when the
  instance's health *changes*. It writes :attr:`Upstream.healthy`; selection skips instances
  that are not healthy.
* :class:`ActiveHealthChecker` — the loop: every ``interval`` it asks ``instances()`` for the
  current instances (so it follows discovery), GETs each one's health endpoint concurrently with
  ``timeout``, feeds the tracker and hands every transition to ``on_transition`` (which logs,
  counts and shares it with the other gateway processes).

Decisions where HAProxy and Envoy differ:

* An instance starts **healthy** ("unknown, healthy until proven otherwise", HAProxy's default):
  a gateway that starts before its services, or learns a fresh instance from discovery (which
  has just heartbeated), must not refuse traffic for ``rise x interval``. It takes ``fall``
  consecutive failed checks to mark it unhealthy, then ``rise`` consecutive successes to bring
  it back. A starting gateway process first adopts the shared state from Redis, so an instance
  another process already found unhealthy starts unhealthy here too.
* A check succeeds on a 2xx whose body does not say ``unhealthy`` (``degraded`` still serves);
  any other status, a timeout or a refused connection is a failure.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import requests

from ascep.common.concurrency import parallel_map
from ascep.common.healthcheck import check_http, health_session
from ascep.common.timeutil import iso_utc
from ascep.gateway.upstreams.model import Upstream, UpstreamKey

logger = logging.getLogger(__name__)

#: Check results kept per instance for ``/api/services`` (enough to see a rise or a fall).
HISTORY_LENGTH = 10
#: Rise/fall transitions kept per instance for ``/api/services``: the dashboard's flap history.
TRANSITIONS_LENGTH = 10


@dataclass(frozen=True, slots=True)
class HealthCheckOptions:
    """How one service's instances are checked (defaults: HAProxy's rise 2 / fall 3, every 2 s)."""

    interval: float = 2.0
    timeout: float = 1.0
    rise: int = 2
    fall: int = 3
    path: str = "/health"

    def __post_init__(self) -> None:
        if self.interval <= 0 or self.timeout <= 0:
            raise ValueError("health check interval and timeout must be positive")
        if self.rise < 1 or self.fall < 1:
            raise ValueError("health check rise and fall must be at least 1")


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One active check of one instance."""

    ok: bool
    at: float  # epoch seconds
    response_time_ms: float | None = None
    detail: str | None = None  # why it failed (``HTTP 503``, ``no answer within 1.0s``...)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "at": iso_utc(self.at * 1000),
            "response_time_ms": self.response_time_ms,
            "detail": self.detail,
        }


@dataclass(slots=True)
class _Counters:
    successes: int = 0  # consecutive
    failures: int = 0  # consecutive
    checked: bool = False
    changed_at: float | None = None  # epoch seconds of the last transition
    history: deque[CheckResult] = field(default_factory=lambda: deque(maxlen=HISTORY_LENGTH))
    #: ``(healthy, at, decided here)`` of the last transitions, oldest first.
    transitions: deque[tuple[bool, float, bool]] = field(
        default_factory=lambda: deque(maxlen=TRANSITIONS_LENGTH)
    )


class HealthTracker:
    """Rise/fall state of every instance this process knows; pure logic, no I/O."""

    def __init__(self) -> None:
        self._counters: dict[UpstreamKey, _Counters] = {}

    def _of(self, upstream: Upstream) -> _Counters:
        counters = self._counters.get(upstream.key)
        if counters is None:
            counters = self._counters[upstream.key] = _Counters()
        return counters

    def record(self, upstream: Upstream, result: CheckResult, options: HealthCheckOptions) -> bool | None:
        """Count one result; the instance's new health if this result changed it, else ``None``."""
        counters = self._of(upstream)
        counters.checked = True
        counters.history.append(result)
        if result.ok:
            counters.successes += 1
            counters.failures = 0
            if not upstream.healthy and counters.successes >= options.rise:
                return self._transition(upstream, counters, True, result.at, here=True)
        else:
            counters.failures += 1
            counters.successes = 0
            if upstream.healthy and counters.failures >= options.fall:
                return self._transition(upstream, counters, False, result.at, here=True)
        return None

    def adopt(self, upstream: Upstream, healthy: bool, at: float | None = None) -> bool:
        """Apply a transition decided elsewhere (another process); ``True`` if it changed anything.

        The counters restart so this process needs a full ``rise``/``fall`` streak of its own
        before it would decide the opposite (no flapping on one odd result).
        """
        counters = self._of(upstream)
        if upstream.healthy == healthy:
            return False
        self._transition(upstream, counters, healthy, at if at is not None else time.time(), here=False)
        return True

    @staticmethod
    def _transition(upstream: Upstream, counters: _Counters, healthy: bool, at: float, *, here: bool) -> bool:
        upstream.healthy = healthy
        counters.successes = counters.failures = 0
        counters.changed_at = at
        counters.transitions.append((healthy, at, here))
        return healthy

    def forget(self, keep: Iterable[UpstreamKey]) -> None:
        """Drop the state of instances that are gone (discovery removed them)."""
        kept = set(keep)
        for key in [k for k in self._counters if k not in kept]:
            del self._counters[key]

    def report(self, upstream: Upstream) -> dict[str, Any]:
        """Health of one instance for ``/api/services``: status, streaks and recent checks."""
        counters = self._counters.get(upstream.key) or _Counters()
        status = "healthy" if upstream.healthy else "unhealthy"
        if not counters.checked and upstream.healthy:
            status = "unknown"  # routable: healthy until proven otherwise
        return {
            "status": status,
            "consecutive_successes": counters.successes,
            "consecutive_failures": counters.failures,
            "changed_at": iso_utc(counters.changed_at * 1000) if counters.changed_at else None,
            "checks": [r.as_dict() for r in reversed(counters.history)],  # newest first
            # Rises and falls, newest first: "decided here" by this process's checks, else
            # adopted from the process that runs them (``shared``).
            "transitions": [
                {
                    "to": "healthy" if healthy else "unhealthy",
                    "at": iso_utc(at * 1000),
                    "decided": "here" if here else "shared",
                }
                for healthy, at, here in reversed(counters.transitions)
            ],
        }


#: Called with (instance, new health, when) for every transition this process decides.
TransitionHandler = Callable[[Upstream, bool, float], None]


def probe(session: requests.Session, upstream: Upstream, options: HealthCheckOptions) -> CheckResult:
    """GET the instance's health endpoint once; never raises."""
    outcome = check_http(session, upstream.base_url + options.path, options.timeout)
    ok = outcome.status != "unhealthy"
    detail = None if ok else (outcome.error or outcome.reason or "unhealthy")
    return CheckResult(ok, time.time(), outcome.response_time_ms, detail)


class ActiveHealthChecker:
    """Checks every current instance each ``interval``; may be told it is not the checker now.

    ``options_for(service)`` gives each service's options (``path`` is the service's
    ``health_endpoint``). ``should_check()`` is asked each round: with several gateway processes
    only the holder of the health lease checks and the others adopt its transitions.
    """

    def __init__(
        self,
        tracker: HealthTracker,
        instances: Callable[[], Iterable[Upstream]],
        options_for: Callable[[str], HealthCheckOptions],
        on_transition: TransitionHandler,
        *,
        async_mode: str,
        should_check: Callable[[], bool] = lambda: True,
    ) -> None:
        self.tracker = tracker
        self.instances = instances
        self.options_for = options_for
        self.on_transition = on_transition
        self.async_mode = async_mode
        self.should_check = should_check
        self.session = health_session()
        self.rounds = 0
        self._next_due: dict[UpstreamKey, float] = {}

    def check_round(self, now: float | None = None) -> list[tuple[Upstream, bool]]:
        """Check every instance whose ``interval`` is due, concurrently; the transitions decided."""
        now = time.monotonic() if now is None else now
        instances = list(self.instances())
        self.tracker.forget(u.key for u in instances)
        live = {u.key for u in instances}
        self._next_due = {k: t for k, t in self._next_due.items() if k in live}
        current = [u for u in instances if self._next_due.get(u.key, 0.0) <= now]
        if not current:
            return []
        for upstream in current:
            self._next_due[upstream.key] = now + self.options_for(upstream.service).interval
        results = parallel_map(
            lambda u: probe(self.session, u, self.options_for(u.service)), current, self.async_mode
        )
        self.rounds += 1
        transitions: list[tuple[Upstream, bool]] = []
        for upstream, result in zip(current, results, strict=True):
            changed = self.tracker.record(upstream, result, self.options_for(upstream.service))
            if changed is not None:
                transitions.append((upstream, changed))
                self.on_transition(upstream, changed, result.at)
        return transitions

    def tick(self) -> None:
        """One turn of the health loop: check what is due, if this process is the checker now."""
        if self.should_check():
            self.check_round()
        else:
            self._next_due.clear()  # on becoming the checker, check everything at once
