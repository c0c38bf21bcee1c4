"""Every setting of the health monitor, declared once (the README's configuration table lists them)."""

from __future__ import annotations

from ascep.common.config import Setting, port_setting

SERVICE_NAME = "health"
DEFAULT_PORT = 5001

SETTINGS: tuple[Setting, ...] = (
    port_setting(DEFAULT_PORT),
    Setting(
        "HEALTH_CHECK_INTERVAL_S",
        float,
        5.0,
        "Seconds between two rounds of checks of every target.",
        minimum=0.1,
        maximum=3600,
    ),
    Setting(
        "HEALTH_CHECK_TIMEOUT_S",
        float,
        2.0,
        "Timeout of one health check (HTTP or Redis).",
        minimum=0.05,
        maximum=60,
    ),
    Setting(
        "HEALTH_UNHEALTHY_AFTER",
        int,
        3,
        "Consecutive failed checks before a target is `unhealthy` (the first failure makes it `degraded`).",
        minimum=1,
        maximum=100,
    ),
    Setting(
        "HEALTH_RECOVER_AFTER",
        int,
        2,
        "Consecutive successful checks before a failing target is `healthy` again.",
        minimum=1,
        maximum=100,
    ),
    Setting(
        "HEALTH_STARTUP_GRACE_S",
        float,
        30.0,
        "After the monitor first sees a target, how long a target that has not answered yet is "
        "`starting` (not down): its failed checks count neither in availability nor in the error rate.",
        minimum=0,
        maximum=3600,
    ),
    Setting(
        "HEALTH_RECENT_RESTART_S",
        float,
        900.0,
        "A target whose latest restart is at most this old is marked `restarted_recently`.",
        minimum=1,
        maximum=86_400,
    ),
    Setting(
        "HEALTH_HISTORY_MAX_CHECKS",
        int,
        2000,
        "Check results kept per target in Redis for `/history` (oldest dropped first).",
        minimum=10,
        maximum=1_000_000,
    ),
    Setting(
        "GATEWAY_URL",
        str,
        "http://127.0.0.1:5000",
        "Where the monitor reaches the gateway's `/health` (services come from the registry the "
        "gateway mirrors into Redis).",
    ),
    Setting(
        "WORKER_HEARTBEAT_MAX_AGE_S",
        float,
        30.0,
        "A Celery worker whose last heartbeat is older than this counts as gone.",
        minimum=1,
        maximum=3600,
    ),
)
