"""What runs inside the Celery worker: the one task that runs any catalogued job, heartbeats, reaper.

The Celery task is a thin wrapper (Flask's Celery example): it moves a ``queued`` record to
``running`` under a fresh run id and lease, calls the plain job function with a
:class:`JobContext`, bounds its result and records the outcome. Job logic lives in
``ascep.tasks.jobs``, testable without Celery. The worker's main process also beats (health) and
runs the reaper (lost tasks, ``ascep.tasks.reaper``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from typing import Any

import redis
from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready, worker_shutdown

from ascep.common import heartbeats
from ascep.common.loops import PeriodicLoop
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS
from ascep.common.timeutil import now_ms
from ascep.tasks.catalog import Catalog, build_catalog
from ascep.tasks.celery_app import celery_app
from ascep.tasks.celery_setup import RUN_TASK
from ascep.tasks.jobs.base import Cancelled, JobContext
from ascep.tasks.leases import LeaseKeeper
from ascep.tasks.reaper import Reaper, ReaperLoop
from ascep.tasks.records import CANCELLED, FAILED, RUNNING, SUCCEEDED, TaskRecords
from ascep.tasks.results import check_size
from ascep.tasks.settings import TasksSettings

logger = logging.getLogger(__name__)

_PROGRESS_EVERY_S = 0.1  # at most ten task_update events a second per task
_state: dict[str, Any] = {}


def _config() -> TasksSettings:
    settings: TasksSettings = celery_app.conf.ascep
    return settings


def _redis() -> redis.Redis:
    """One client per process (pool children included: redis-py reconnects after a fork)."""
    client = _state.get("redis")
    if client is None or _state.get("pid") != os.getpid():
        client = _state["redis"] = _config().redis.client()
        _state["pid"] = os.getpid()
    return client


def _catalog() -> Catalog:
    if "catalog" not in _state:
        _state["catalog"] = build_catalog(_config().task_extra_modules)
    return _state["catalog"]


def _records() -> TaskRecords:
    cfg = _config()
    return TaskRecords(_redis(), cfg.task_history_size, cfg.task_record_ttl_s)


def _leases() -> LeaseKeeper:
    """One lease keeper per process: each pool child renews the leases of what it runs."""
    keeper = _state.get("leases")
    if keeper is None or _state.get("leases_pid") != os.getpid():
        cfg = _config()
        keeper = _state["leases"] = LeaseKeeper(_records, cfg.task_lease_s, cfg.task_time_limit_s)
        _state["leases_pid"] = os.getpid()
    return keeper


@celery_app.task(name=RUN_TASK, bind=True)
def run(self: Task, task_id: str, name: str, args: dict[str, Any]) -> None:
    """Run one catalogued job for the record ``task_id``, if it is still queued."""
    records = _records()
    leases = _leases()
    worker = self.request.hostname or socket.gethostname()
    run_id, before, attempts = records.start(task_id, worker, leases.lease_end())
    if run_id is None:
        logger.info("task %s (%s) not started: it is %s", task_id, name, before or "gone")
        return
    if attempts > 1:
        logger.warning("task %s (%s): run %d (an earlier worker was lost)", task_id, name, attempts)
    leases.hold(task_id, run_id)
    try:
        _execute(records, run_id, task_id, name, args)
    finally:
        leases.release(task_id)


def _execute(records: TaskRecords, run_id: str, task_id: str, name: str, args: dict[str, Any]) -> None:
    started = now_ms()
    cfg = _config()
    limit = cfg.task_result_max_bytes
    job = _catalog().get(name)
    last_report = [0.0]

    def report(fraction: float, message: str) -> bool:
        now = time.monotonic()
        if fraction < 1.0 and now - last_report[0] < _PROGRESS_EVERY_S:
            return True  # throttled: a cancel is seen at the next stored report, within 0.1 s
        last_report[0] = now
        return records.progress(task_id, run_id, fraction, message)

    def finish(status: str, **fields: Any) -> None:
        ended = now_ms()
        moved, current, _ = records.transition(
            task_id,
            (RUNNING,),
            status,
            held_by=run_id,
            finished_ts=ended,
            runtime_ms=ended - started,
            **fields,
        )
        if not moved:
            logger.warning(
                "task %s (%s): outcome %s dropped, the record is %s", task_id, name, status, current
            )

    try:
        if job is None:
            raise LookupError(f"job {name!r} is not in this worker's catalog")
        result = job.run(JobContext(task_id, _redis(), report, limit), args)
        check_size(result, limit)
    except Cancelled:
        finish(CANCELLED, message="cancelled")
        logger.info("task %s (%s) cancelled", task_id, name)
        return
    except SoftTimeLimitExceeded:
        finish(FAILED, error=f"time limit of {cfg.task_time_limit_s - 10}s exceeded", message="failed")
        raise
    except Exception as exc:
        logger.exception("task %s (%s) failed", task_id, name)
        finish(FAILED, error=f"{type(exc).__name__}: {exc}", message="failed")
        raise
    message = "done"
    if isinstance(result, dict) and result.get("truncated"):
        message = f"done; result truncated: {result.get('truncated_reason', 'see the result')}"
    finish(SUCCEEDED, progress=1.0, message=message, result=result)


class Heartbeat(PeriodicLoop):
    """Tells the health monitor this worker is alive: a ZADD of its hostname every few seconds."""

    label = "worker heartbeat"

    def __init__(self, client: redis.Redis, hostname: str, interval: float) -> None:
        super().__init__(interval)
        self.redis = client
        self.hostname = hostname

    def step(self) -> None:
        heartbeats.beat(self.redis, self.hostname)

    def stop(self) -> None:
        super().stop()
        with contextlib.suppress(*REDIS_UNAVAILABLE_ERRORS):
            heartbeats.forget(self.redis, self.hostname)


def _resend(record: dict[str, Any]) -> None:
    celery_app.send_task(RUN_TASK, args=[record["id"], record["name"], record["args"]], task_id=record["id"])


@worker_ready.connect
def _start_heartbeat_and_reaper(sender: Any = None, **_: Any) -> None:
    cfg = _config()
    hostname = getattr(sender, "hostname", None) or f"worker@{socket.gethostname()}:{os.getpid()}"
    client = cfg.redis.client()
    heartbeat = Heartbeat(client, hostname, cfg.worker_heartbeat_interval_s)
    records = TaskRecords(client, cfg.task_history_size, cfg.task_record_ttl_s)
    reaper = Reaper(records, _resend, cfg.task_lease_s, cfg.task_max_attempts)
    loop = ReaperLoop(reaper, client, hostname, cfg.task_lease_s / 3)
    _state["heartbeat"], _state["reaper"] = heartbeat, loop
    threading.Thread(target=heartbeat.run, name="ascep-heartbeat", daemon=True).start()
    threading.Thread(target=loop.run, name="ascep-reaper", daemon=True).start()


@worker_shutdown.connect
def _stop_heartbeat_and_reaper(**_: Any) -> None:
    loop = _state.pop("reaper", None)
    if loop is not None:
        loop.stop()
    heartbeat = _state.pop("heartbeat", None)
    if heartbeat is not None:
        heartbeat.stop()
