"""Assemble the health monitor: settings, prober, history, monitor, views, checks and metrics.

The loop is *not* started here — the runtime's ``start()`` does that (the entry point calls it) —
so tests can build the app and run rounds by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from ascep.common.app_factory import create_service_app
from ascep.common.lifecycle import install_runtime
from ascep.common.ops import CheckResult, get_ops, redis_check
from ascep.health.history import HealthHistory
from ascep.health.hysteresis import Thresholds
from ascep.health.metrics import HealthCollector
from ascep.health.monitor import HealthMonitor, MonitorOptions
from ascep.health.probes import Prober
from ascep.health.runtime import HealthRuntime
from ascep.health.settings import SERVICE_NAME, HealthSettings
from ascep.health.views import monitor_blueprint, system_section

#: The loop is considered stuck after this many missed rounds.
_STUCK_ROUNDS = 5


def build_app(config: Mapping[str, Any] | None = None) -> Flask:
    settings = HealthSettings.load(config)
    app = create_service_app(SERVICE_NAME, settings, config)
    client = settings.redis.client(retries=0)
    monitor = HealthMonitor(
        client,
        Prober(client, settings.health_check_timeout_s, settings.worker_heartbeat_max_age_s),
        HealthHistory(client, settings.health_history_max_checks),
        MonitorOptions(
            thresholds=Thresholds(settings.health_unhealthy_after, settings.health_recover_after),
            gateway_url=settings.gateway_url,
            interval=settings.health_check_interval_s,
            async_mode=settings.async_mode,
            startup_grace_s=settings.health_startup_grace_s,
            recent_restart_s=settings.health_recent_restart_s,
        ),
    )
    install_runtime(app, HealthRuntime(settings, client, monitor))
    app.register_blueprint(monitor_blueprint)
    _install_ops(app, settings, monitor, client)
    return app


def _install_ops(app: Flask, settings: HealthSettings, monitor: HealthMonitor, client: Any) -> None:
    ops = get_ops(app)
    interval = settings.health_check_interval_s
    timeout = settings.health_check_timeout_s

    def loop_check() -> CheckResult:
        since = monitor.seconds_since_round()
        limit = _STUCK_ROUNDS * (interval + timeout)
        if since is None:
            if ops.uptime_seconds() > limit:
                return CheckResult("unhealthy", "no check round completed yet")
            return CheckResult("healthy", "starting")
        if since > limit:
            return CheckResult("unhealthy", f"last check round {since:.0f}s ago")
        return CheckResult("healthy", {"rounds": monitor.rounds})

    ops.health_checks["loop"] = loop_check
    ops.health_checks["redis"] = redis_check(client, when_down="degraded")
    ops.readiness_checks["redis"] = redis_check(client)
    ops.status_sections["monitor"] = monitor.report
    ops.status_sections["system"] = system_section
    ops.metrics.register(HealthCollector(monitor))
