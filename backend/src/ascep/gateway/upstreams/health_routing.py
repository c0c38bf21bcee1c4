"""Health-based routing for one gateway process: what the proxy and the gateway wiring use.

:class:`HealthRouting` puts the pieces together — active checks (:mod:`.active_health`),
passive outlier ejection (:mod:`.outliers`) and the state shared with the other gateway
processes (:mod:`.shared_state`) — behind four calls:

* :meth:`~HealthRouting.observe` — the proxy reports how a call to an instance ended (local
  memory only; the ``observe_outcome`` step calls it when the answer is over);
* :func:`routable` — whether selection may send a call to an instance now (healthy and not
  ejected; a plain read of the :class:`Upstream`, no Redis);
* :meth:`~HealthRouting.start` — the background loops (checks, shared-state writer and listener);
* :meth:`~HealthRouting.report` / :meth:`~HealthRouting.status` — ``/api/services`` and
  ``/status``; :class:`~ascep.gateway.upstreams.routing_metrics.RoutingCollector` feeds
  ``/metrics``.

Every transition this process applies, whether decided here or received, is logged once and
counted by kind (``healthy``, ``unhealthy``, ``ejected``, ``returned``).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import redis

from ascep.gateway.upstreams.active_health import ActiveHealthChecker, HealthCheckOptions, HealthTracker
from ascep.gateway.upstreams.health_lease import HealthLease, process_id
from ascep.gateway.upstreams.instances import callable_now
from ascep.gateway.upstreams.model import Upstream, UpstreamKey
from ascep.gateway.upstreams.outliers import EjectionState, OutlierOptions, Outliers
from ascep.gateway.upstreams.shared_state import Change, RoutingStateSync

logger = logging.getLogger(__name__)

CHANGES: tuple[Change, ...] = ("healthy", "unhealthy", "ejected", "returned")


def routable(upstream: Upstream, now: float | None = None) -> bool:
    """May selection send a call to ``upstream``? The one rule selection uses (``now``: monotonic)."""
    return callable_now(upstream, time.monotonic() if now is None else now)


class HealthRouting:
    """Active checks, outlier ejection and shared routing state of one gateway process."""

    def __init__(
        self,
        instances: Callable[[], Iterable[Upstream]],
        *,
        health_options: Callable[[str], HealthCheckOptions],
        outlier_options: Callable[[str], OutlierOptions],
        redis_client: redis.Redis,
        redis_url: str,
        async_mode: str,
        sleep: Callable[[float], Any],
        lease_s: float = 6.0,
        resync_interval: float = 5.0,
        tick: float = 0.25,
        active_checks: bool = True,
    ) -> None:
        """``instances()``: every current instance of every service (it follows discovery)."""
        self.instances = instances
        self.active_checks = active_checks  # off: outlier ejection (and breakers) decide alone
        self.sleep = sleep
        self.tick_interval = tick
        self.me = process_id()
        self.transitions: Counter[tuple[str, str, Change]] = Counter()  # (service, instance, change)
        self.tracker = HealthTracker()
        self.sync = RoutingStateSync(
            redis_client,
            redis_url,
            self.tracker,
            instances,
            self._changed,
            me=self.me,
            sleep=sleep,
            resync_interval=resync_interval,
        )
        self.lease = HealthLease(redis_client, self.me, lease_s)
        self.checker = ActiveHealthChecker(
            self.tracker,
            instances,
            health_options,
            self._health_decided,
            async_mode=async_mode,
            should_check=self.lease.should_check,
        )
        self.outliers = Outliers(outlier_options, self._peers, self._ejected)
        self.outlier_options = outlier_options
        self._out: set[UpstreamKey] = set()  # instances this process has seen ejected
        self._stopping = False

    # --- the hot path ------------------------------------------------------------------------
    def observe(self, upstream: Upstream, failed: bool) -> None:
        """One proxied call to ``upstream`` ended (``failed``: 5xx, timeout or connection error)."""
        self.outliers.observe(upstream, failed)

    # --- decisions of this process -----------------------------------------------------------
    def _health_decided(self, upstream: Upstream, healthy: bool, at: float) -> None:
        self._changed(upstream, "healthy" if healthy else "unhealthy", "local")
        self.sync.publish_health(upstream, healthy, at)

    def _ejected(self, upstream: Upstream, previous: EjectionState) -> None:
        self._changed(upstream, "ejected", "local")
        options = self.outlier_options(upstream.service)
        self.sync.publish_ejection(upstream, previous, options, len(self._peers(upstream.service)))

    def _peers(self, service: str) -> list[Upstream]:
        return [u for u in self.instances() if u.service == service]

    def _changed(self, upstream: Upstream, change: Change, origin: str) -> None:
        self.transitions[(upstream.service, upstream.instance_id, change)] += 1
        if change == "ejected":
            self._out.add(upstream.key)
        log = logger.warning if change in ("unhealthy", "ejected") else logger.info
        log("instance %s is %s (%s)", upstream.key, change, "decided here" if origin == "local" else "shared")

    # --- background --------------------------------------------------------------------------
    def start(self, spawn: Callable[..., Any]) -> None:
        """Start the loops with ``spawn(fn)`` (``socketio.start_background_task`` or a thread)."""
        spawn(self.run)
        spawn(self.sync.run)
        spawn(self.sync.run_writer)

    def run(self) -> None:
        """Until :meth:`stop`: health checks when due, and note ejections that have ended."""
        while not self._stopping:
            started = time.monotonic()
            try:
                if self.active_checks:
                    self.checker.tick()
                self.sweep()
            except Exception:
                logger.exception("health routing loop failed; retrying in %.2fs", self.tick_interval)
            self.sleep(max(0.0, self.tick_interval - (time.monotonic() - started)))

    def sweep(self, now: float | None = None) -> None:
        """Log and count instances whose ejection is over; forget instances that are gone."""
        now = time.monotonic() if now is None else now
        current = {u.key: u for u in self.instances()}
        for key in list(self._out):
            upstream = current.get(key)
            if upstream is None:
                self._out.discard(key)
            elif upstream.ejected_until <= now:
                self._out.discard(key)
                self._changed(upstream, "returned", "local")
        for upstream in current.values():  # ejections applied straight from a write result
            if upstream.ejected_until > now:
                self._out.add(upstream.key)
        self.tracker.forget(current)
        self.outliers.forget(set(current))

    def stop(self) -> None:
        self._stopping = True
        self.sync.stop()

    # --- reporting ---------------------------------------------------------------------------
    def report(self, upstream: Upstream) -> dict[str, Any]:
        """Routing state of one instance for ``/api/services``."""
        now = time.monotonic()
        ejected = upstream.ejected_until > now
        return {
            "routable": routable(upstream, now),
            # ``checked_here``: whether this process runs the active checks (holds the lease);
            # the others adopt its transitions and keep no check history of their own.
            "health": {**self.tracker.report(upstream), "checked_here": self.lease.checking},
            "outlier": {
                "ejected": ejected,
                "ejected_for_seconds": round(upstream.ejected_until - now, 3) if ejected else 0,
                "times_ejected": upstream.times_ejected,
                "consecutive_failures": self.outliers.streak(upstream),
            },
        }

    def status(self) -> dict[str, Any]:
        """For ``/status``: who checks, the shared-state link and what was lost or refused."""
        return {
            "process": self.me,
            "checking": self.lease.checking,
            "check_rounds": self.checker.rounds,
            "sync": self.sync.connection_status(),
            "writes_dropped": self.sync.dropped_writes,
            "ejections_refused": self.outliers.refused + self.sync.refused_ejections,
        }
