"""Every setting of the tasks API and the Celery worker, declared once (README lists them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ascep.common.config import CommonSettings, Rule, Setting, port_setting, setting
from ascep.common.instruments import InstrumentSettings
from ascep.service_registry import registered_port

SERVICE_NAME = "tasks"


@dataclass(frozen=True, kw_only=True)
class TasksSettings(InstrumentSettings, CommonSettings):
    """Every setting of the tasks API and the Celery worker, typed; built once per process."""

    RULES: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "TASK_VISIBILITY_TIMEOUT_S",
            "TASK_TIME_LIMIT_S",
            # a message must not be handed to a second worker while the first may still run it
            lambda s: s.task_visibility_timeout_s == 0 or s.task_visibility_timeout_s > s.task_time_limit_s,
            "must be 0 (automatic) or above",
        ),
    )

    port: int = port_setting(registered_port(SERVICE_NAME))
    task_time_limit_s: int = setting(
        600,
        "Hard time limit of one task run; the soft limit (the task fails cleanly) is 10 s earlier.",
        minimum=15,
        maximum=86_400,
    )
    task_visibility_timeout_s: int = setting(
        0,
        "Redis broker visibility timeout: a message taken by a worker that died is put back after "
        "this many seconds. 0 = `TASK_TIME_LIMIT_S` + 60 (just above the longest run). A backstop "
        "only: lost tasks are normally re-queued after `TASK_LEASE_S`.",
        minimum=0,
        maximum=7 * 86_400,
    )
    task_lease_s: float = setting(
        15.0,
        "A running task's process renews its lease every third of this; a task whose lease ran out "
        "(its worker died) is re-queued, and a queued task whose broker message was lost is sent "
        "again, within about 1.4 x this once a worker runs.",
        minimum=0.5,
        maximum=3600,
    )
    task_max_attempts: int = setting(
        3,
        "Runs of one task whose worker was lost before it fails with `worker lost`.",
        minimum=1,
        maximum=100,
    )
    task_history_size: int = setting(
        200,
        "Task records kept (oldest deleted first, result included); with `TASK_RESULT_MAX_BYTES` "
        "this bounds the tasks' Redis memory.",
        minimum=10,
        maximum=1_000_000,
    )
    task_record_ttl_s: int = setting(
        86_400,
        "Seconds a task's record (and result) stays readable after its last change.",
        minimum=60,
        maximum=365 * 86_400,
    )
    task_result_max_bytes: int = setting(
        262_144,
        "Largest result a task may store (JSON bytes). An export keeps the first rows that fit and "
        "says so (`truncated`, `next_since`); any other result above it fails the task.",
        minimum=1024,
        maximum=64 * 1024 * 1024,
    )
    task_extra_modules: tuple[str, ...] = setting(
        (),
        "Extra modules defining jobs (comma-separated), imported by the worker and the API alike.",
    )
    worker_heartbeat_interval_s: float = setting(
        5.0,
        "How often a worker records its heartbeat for the health monitor.",
        minimum=0.1,
        maximum=300,
    )


SETTINGS: tuple[Setting, ...] = TasksSettings.own()
