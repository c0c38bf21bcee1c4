"""Assemble the health monitor: settings, prober, history, monitor, views, checks and metrics.

The loop is *not* started here — the entry point does that — so tests can build the app and run
rounds by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from ascep.common.ops import CheckResult, get_ops, redis_check
from ascep.common.redis_client import connect
from ascep.common.service import create_service_app
from ascep.health.history import HealthHistory
from ascep.health.hysteresis import Thresholds
from ascep.health.metrics import HealthCollector
from ascep.health.monitor import HealthMonitor
from ascep.health.probes import Prober
from ascep.health.settings import SERVICE_NAME, SETTINGS
from ascep.health.views import monitor_blueprint, system_section

#: The loop is considered stuck after this many missed rounds.
_STUCK_ROUNDS = 5


def build_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = create_service_app(SERVICE_NAME, SETTINGS, config)
    cfg = app.config
    client = connect(cfg["REDIS_URL"], socket_timeout=2.0, connect_timeout=1.0, retries=0)
    monitor = HealthMonitor(
        client,
        Prober(client, cfg["HEALTH_CHECK_TIMEOUT_S"], cfg["WORKER_HEARTBEAT_MAX_AGE_S"]),
        HealthHistory(client, cfg["HEALTH_HISTORY_MAX_CHECKS"]),
        thresholds=Thresholds(cfg["HEALTH_UNHEALTHY_AFTER"], cfg["HEALTH_RECOVER_AFTER"]),
        gateway_url=cfg["GATEWAY_URL"],
        interval=cfg["HEALTH_CHECK_INTERVAL_S"],
        async_mode=cfg["ASYNC_MODE"],
        startup_grace_s=cfg["HEALTH_STARTUP_GRACE_S"],
        recent_restart_s=cfg["HEALTH_RECENT_RESTART_S"],
    )
    app.extensions["health.monitor"] = monitor
    app.extensions["health.redis"] = client
    app.register_blueprint(monitor_blueprint)
    _install_ops(app, monitor, client)
    return app


def _install_ops(app: Flask, monitor: HealthMonitor, client: Any) -> None:
    ops = get_ops(app)
    interval = app.config["HEALTH_CHECK_INTERVAL_S"]
    timeout = app.config["HEALTH_CHECK_TIMEOUT_S"]

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
