"""Every setting of the tasks API and the Celery worker, declared once (README lists them)."""

from __future__ import annotations

from ascep.common.config import Setting, port_setting

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
        3600,
        "A task taken by a worker that died is handed to another worker after this many seconds "
        "(Redis broker visibility timeout). Must exceed `TASK_TIME_LIMIT_S`.",
        minimum=1,
        maximum=7 * 86_400,
    ),
    Setting(
        "TASK_HISTORY_SIZE",
        int,
        1000,
        "Task records kept for `GET /tasks` (oldest dropped first).",
        minimum=10,
        maximum=1_000_000,
    ),
    Setting(
        "TASK_RECORD_TTL_S",
        int,
        7 * 86_400,
        "Seconds a finished task's record (and result) stays readable.",
        minimum=60,
        maximum=365 * 86_400,
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
)
