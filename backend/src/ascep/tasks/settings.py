"""Every setting of the tasks API and the Celery worker, declared once (README lists them)."""

from __future__ import annotations

from ascep.common.config import Setting, port_setting
from ascep.price_feed.settings import SETTINGS as _PRICE_FEED_SETTINGS

SERVICE_NAME = "tasks"
DEFAULT_PORT = 5005

SETTINGS: tuple[Setting, ...] = (
    port_setting(DEFAULT_PORT),
    Setting(
        "TASK_TIME_LIMIT_S",
        int,
        600,
        "Hard time limit of one task run; the soft limit (the task fails cleanly) is 10 s earlier.",
        minimum=15,
        maximum=86_400,
    ),
    Setting(
        "TASK_VISIBILITY_TIMEOUT_S",
        int,
        0,
        "Redis broker visibility timeout: a message taken by a worker that died is put back after "
        "this many seconds. 0 = `TASK_TIME_LIMIT_S` + 60 (just above the longest run). A backstop "
        "only: lost tasks are normally re-queued after `TASK_LEASE_S`.",
        minimum=0,
        maximum=7 * 86_400,
    ),
    Setting(
        "TASK_LEASE_S",
        float,
        15.0,
        "A running task's process renews its lease every third of this; a task whose lease ran out "
        "(its worker died) is re-queued, and a queued task whose broker message was lost is sent "
        "again, within about 1.4 x this once a worker runs.",
        minimum=0.5,
        maximum=3600,
    ),
    Setting(
        "TASK_MAX_ATTEMPTS",
        int,
        3,
        "Runs of one task whose worker was lost before it fails with `worker lost`.",
        minimum=1,
        maximum=100,
    ),
    Setting(
        "TASK_HISTORY_SIZE",
        int,
        200,
        "Task records kept (oldest deleted first, result included); with `TASK_RESULT_MAX_BYTES` "
        "this bounds the tasks' Redis memory.",
        minimum=10,
        maximum=1_000_000,
    ),
    Setting(
        "TASK_RECORD_TTL_S",
        int,
        86_400,
        "Seconds a task's record (and result) stays readable after its last change.",
        minimum=60,
        maximum=365 * 86_400,
    ),
    Setting(
        "TASK_RESULT_MAX_BYTES",
        int,
        262_144,
        "Largest result a task may store (JSON bytes). An export keeps the first rows that fit and "
        "says so (`truncated`, `next_since`); any other result above it fails the task.",
        minimum=1024,
        maximum=64 * 1024 * 1024,
    ),
    Setting(
        "TASK_EXTRA_MODULES",
        tuple,
        (),
        "Extra modules defining jobs (comma-separated), imported by the worker and the API alike.",
    ),
    Setting(
        "WORKER_HEARTBEAT_INTERVAL_S",
        float,
        5.0,
        "How often a worker records its heartbeat for the health monitor.",
        minimum=0.1,
        maximum=300,
    ),
    # The price feed's instruments, so task symbols resolve exactly as /prices/<symbol> does.
    *(s for s in _PRICE_FEED_SETTINGS if s.name in ("CRYPTO_SYMBOLS", "FOREX_SYMBOLS")),
)
