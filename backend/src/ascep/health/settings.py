"""Every setting of the health monitor, declared once (the README's configuration table lists them)."""

from __future__ import annotations

from dataclasses import dataclass

from ascep.common.config import CommonSettings, Setting, port_setting, setting
from ascep.service_registry import registered_port

SERVICE_NAME = "health"


@dataclass(frozen=True, kw_only=True)
class HealthSettings(CommonSettings):
    """Every setting of the health monitor, typed; built once by ``create_app``."""

    port: int = port_setting(registered_port(SERVICE_NAME))
    health_check_interval_s: float = setting(
        5.0,
        "Seconds between two rounds of checks of every target.",
        minimum=0.1,
        maximum=3600,
    )
    health_check_timeout_s: float = setting(
        2.0,
        "Timeout of one health check (HTTP or Redis).",
        minimum=0.05,
        maximum=60,
    )
    health_unhealthy_after: int = setting(
        3,
        "Consecutive failed checks before a target is `unhealthy` (the first failure makes it `degraded`).",
        minimum=1,
        maximum=100,
    )
    health_recover_after: int = setting(
        2,
        "Consecutive successful checks before a failing target is `healthy` again.",
        minimum=1,
        maximum=100,
    )
    health_startup_grace_s: float = setting(
        30.0,
        "After the monitor first sees a target, how long a target that has not answered yet is "
        "`starting` (not down): its failed checks count neither in availability nor in the error rate.",
        minimum=0,
        maximum=3600,
    )
    health_recent_restart_s: float = setting(
        900.0,
        "A target whose latest restart is at most this old is marked `restarted_recently`.",
        minimum=1,
        maximum=86_400,
    )
    health_history_max_checks: int = setting(
        2000,
        "Check results kept per target in Redis for `/history` (oldest dropped first).",
        minimum=10,
        maximum=1_000_000,
    )
    gateway_url: str = setting(
        "http://127.0.0.1:5000",
        "Where the monitor reaches the gateway's `/health` (services come from the registry the "
        "gateway mirrors into Redis).",
    )
    worker_heartbeat_max_age_s: float = setting(
        30.0,
        "A Celery worker whose last heartbeat is older than this counts as gone.",
        minimum=1,
        maximum=3600,
    )


SETTINGS: tuple[Setting, ...] = HealthSettings.own()
