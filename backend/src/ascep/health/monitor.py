"""The check loop: discover targets, probe them concurrently, track status, record, announce.

Every round is independent and bounded by the probe timeout, so one hung service delays nothing
but its own check. Redis going away degrades the monitor (no history, no events, last known
targets kept) but never stops it; it recovers on the next round that reaches Redis.

For ``startup_grace_s`` after the monitor first sees a target, failing to reach it before it ever
answered is ``starting`` (services come up after the monitor), kept out of availability and the
error rate. Restarts come from the starts every service records (:mod:`ascep.common.starts`), so
a crash quicker than a check still shows.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis

from ascep.common import channels
from ascep.common.bus import publish
from ascep.common.concurrency import parallel_map
from ascep.common.events import ServiceStatus
from ascep.common.health_status import overall_status
from ascep.common.loops import LoopThread, run_every
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS
from ascep.common.redis_replies import text_map
from ascep.common.starts import Restarts, restarts_of
from ascep.common.timeutil import iso_utc, now_ms
from ascep.health.history import HealthHistory
from ascep.health.hysteresis import StatusTracker, Thresholds
from ascep.health.probes import Prober, ProbeResult
from ascep.health.targets import Target, targets_from_registry

logger = logging.getLogger(__name__)

_RECENT = 100  # checks per target behind the error rate
_PRUNE_EVERY_MS = 600_000
_STATUSES = ("healthy", "starting", "degraded", "unhealthy", "unknown")
#: Restarts as reported while Redis (where starts are recorded) cannot be read.
_NO_RESTARTS = Restarts(0, 0, None, None)


@dataclass
class TargetState:
    target: Target
    tracker: StatusTracker
    recent: deque[bool] = field(default_factory=lambda: deque(maxlen=_RECENT))
    last: ProbeResult | None = None
    last_checked_ts: int | None = None
    last_change_ts: int | None = None
    first_seen_ts: int = 0
    reason: str | None = None


@dataclass(frozen=True)
class MonitorOptions:
    """How the monitor checks (the ``HEALTH_*`` settings it needs)."""

    thresholds: Thresholds
    gateway_url: str
    interval: float
    async_mode: str
    startup_grace_s: float = 0.0
    recent_restart_s: float = 900.0


class HealthMonitor:
    def __init__(
        self,
        redis_client: redis.Redis,
        prober: Prober,
        history: HealthHistory,
        options: MonitorOptions,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.redis = redis_client
        self.prober = prober
        self.history = history
        self.thresholds = options.thresholds
        self.gateway_url = options.gateway_url
        self.interval = options.interval
        self.async_mode = options.async_mode
        self.startup_grace_ms = options.startup_grace_s * 1000
        self.recent_restart_ms = options.recent_restart_s * 1000
        self.clock = clock
        self.states: dict[str, TargetState] = {}
        self.rounds = 0
        self.last_round_ts: int | None = None
        self.events_published = 0
        self.redis_errors = 0
        self._last_prune = 0
        self._loop = LoopThread(self.run_forever, "health-monitor")

    # --- the loop ---

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 10.0) -> None:
        """End the loop; wait (up to ``timeout``) for a round in progress to finish."""
        self._loop.stop(timeout)
        logger.info("health monitor stopped after %d rounds", self.rounds)

    def run_forever(self) -> None:
        run_every(
            self.interval,
            self.run_round,
            self._loop.stopping,
            (Exception,),
            lambda delay: logger.exception("health round failed; next round in %.1fs", delay),
        )

    def run_round(self) -> None:
        """Check every target once (concurrently) and act on what changed."""
        targets = self.discover()
        results = parallel_map(self.prober.probe, targets, self.async_mode)
        ts = self.clock()
        for target, result in zip(targets, results, strict=True):
            self._apply(target, result, ts)
        for gone in set(self.states) - {t.name for t in targets}:
            del self.states[gone]
        self.rounds += 1
        self.last_round_ts = ts
        if ts - self._last_prune > _PRUNE_EVERY_MS:
            self._guarded(lambda: self.history.prune(self.states, ts), "prune history")
            self._last_prune = ts

    def discover(self) -> list[Target]:
        """Targets from the registry mirror; the last known list while Redis is unreachable."""
        try:
            mirror = text_map(self.redis.hgetall(channels.REGISTRY_KEY))
        except REDIS_UNAVAILABLE_ERRORS:
            self.redis_errors += 1
            known = [s.target for s in self.states.values()]
            return known or targets_from_registry({}, self.gateway_url)
        return targets_from_registry(mirror, self.gateway_url)

    def _apply(self, target: Target, result: ProbeResult, ts: int) -> None:
        state = self.states.get(target.name)
        if state is None or state.target != target:
            state = TargetState(target, StatusTracker(self.thresholds), first_seen_ts=ts)
            self.states[target.name] = state
        previous = state.tracker.status
        in_grace = ts - state.first_seen_ts < self.startup_grace_ms
        changed = state.tracker.observe(result.outcome, in_grace)
        up = result.outcome != "failed"
        counted = state.tracker.counted
        if counted:
            state.recent.append(up)
        state.last = result
        state.last_checked_ts = ts
        state.reason = result.reason if counted else f"not up yet: {result.reason}"
        check = {
            "outcome": result.outcome,
            "status": state.tracker.status,
            "response_time_ms": result.response_time_ms,
            "error": result.error,
            "reason": state.reason,
        }
        change = None
        if changed:
            state.last_change_ts = ts
            change = ServiceStatus(
                service=target.name,
                status=state.tracker.status,
                previous_status=previous,
                response_time_ms=result.response_time_ms,
                error=result.error,
                reason=state.reason,
                ts=ts,
            ).to_dict()
            log = logger.warning if state.tracker.status != "healthy" else logger.info
            log("%s: %s -> %s (%s)", target.name, previous, state.tracker.status, state.reason or "ok")
        self._guarded(
            lambda: self.history.record(target.name, ts, check, up, change, counted=counted), "record check"
        )
        if change is not None and self._guarded(
            lambda: publish(self.redis, channels.SERVICE_STATUS, change), "publish status change"
        ):
            self.events_published += 1

    def _guarded(self, action: Callable[[], Any], what: str) -> bool:
        try:
            action()
        except REDIS_UNAVAILABLE_ERRORS:
            self.redis_errors += 1
            logger.debug("Redis unreachable: could not %s", what)
            return False
        return True

    # --- reports ---

    def target_report(self, name: str) -> dict[str, Any] | None:
        return self._reports([name]).get(name)

    def _reports(self, names: list[str]) -> dict[str, dict[str, Any]]:
        states = {n: self.states[n] for n in names if n in self.states}  # the loop may drop some meanwhile
        unknown: dict[str, float | None] = {"1h": None, "24h": None}
        now = self.clock()
        try:
            availability = self.history.availability(list(states), now)
            restarts = restarts_of(self.redis, list(states), now)
        except REDIS_UNAVAILABLE_ERRORS:
            self.redis_errors += 1
            availability, restarts = {}, {}
        return {
            name: self._report_of(state, availability.get(name, unknown))
            | restarts.get(name, _NO_RESTARTS).as_dict(now, self.recent_restart_ms)
            for name, state in states.items()
        }

    def _report_of(self, state: TargetState, availability: dict[str, float | None]) -> dict[str, Any]:
        last = state.last
        failed = sum(1 for up in state.recent if not up)
        return {
            "status": state.tracker.status,
            "reason": state.reason,
            "kind": state.target.kind,
            "url": state.target.url or None,
            "description": state.target.description,
            "response_time_ms": last.response_time_ms if last else None,
            "http_status": last.http_status if last else None,
            "error": last.error if last else None,
            "consecutive_failures": state.tracker.consecutive_failures,
            "error_rate": round(failed / len(state.recent), 4) if state.recent else None,
            "availability": availability,
            "last_checked": iso_utc(state.last_checked_ts) if state.last_checked_ts else None,
            "last_change": iso_utc(state.last_change_ts) if state.last_change_ts else None,
        }

    def report(self) -> dict[str, Any]:
        services = self._reports(sorted(self.states))
        statuses = [s["status"] for s in services.values()]
        return {
            "status": overall_status(statuses),
            "timestamp": iso_utc(),
            "rounds": self.rounds,
            "last_round": iso_utc(self.last_round_ts) if self.last_round_ts else None,
            "services": services,
            "summary": {s: statuses.count(s) for s in _STATUSES} | {"total": len(statuses)},
        }

    def seconds_since_round(self) -> float | None:
        if self.last_round_ts is None:
            return None
        return (self.clock() - self.last_round_ts) / 1000
