"""What runs inside the Celery worker: the one task that runs any catalogued job, and heartbeats.

The Celery task is a thin wrapper (Flask's Celery example): it moves the record to ``running``,
calls the plain job function with a :class:`JobContext`, and records the outcome. Job logic lives
in ``ascep.tasks.jobs``, testable without Celery.
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
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready, worker_shutdown

from ascep.common import heartbeats
from ascep.common.backoff import Backoff
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS, connect
from ascep.common.timeutil import now_ms
from ascep.tasks.catalog import Cancelled, Catalog, JobContext, build_catalog
from ascep.tasks.celery_app import RUN_TASK, celery_app
from ascep.tasks.records import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED, TaskRecords

logger = logging.getLogger(__name__)

_PROGRESS_EVERY_S = 0.1  # at most ten task_update events a second per task
_state: dict[str, Any] = {}


def _config() -> dict[str, Any]:
    return celery_app.conf.ascep


def _redis() -> redis.Redis:
    """One client per process (pool children included: redis-py reconnects after a fork)."""
    client = _state.get("redis")
    if client is None or _state.get("pid") != os.getpid():
        client = _state["redis"] = connect(_config()["REDIS_URL"])
        _state["pid"] = os.getpid()
    return client


def _catalog() -> Catalog:
    if "catalog" not in _state:
        _state["catalog"] = build_catalog(_config()["TASK_EXTRA_MODULES"])
    return _state["catalog"]


def _records() -> TaskRecords:
    cfg = _config()
    return TaskRecords(_redis(), cfg["TASK_HISTORY_SIZE"], cfg["TASK_RECORD_TTL_S"])


@celery_app.task(name=RUN_TASK, ignore_result=False)
def run(task_id: str, name: str, args: dict[str, Any]) -> Any:
    records = _records()
    started = now_ms()
    moved, before = records.transition(
        task_id, (QUEUED, RUNNING), RUNNING, attempt=True, started_ts=started, progress=0.0
    )
    if not moved:
        logger.info("task %s (%s) not started: it is %s", task_id, name, before or "unknown")
        return None
    if before == RUNNING:
        logger.warning("task %s (%s) is being redone: the worker running it was lost", task_id, name)
    job = _catalog().get(name)
    last_report = [0.0]

    def report(fraction: float, message: str) -> bool:
        now = time.monotonic()
        if fraction < 1.0 and now - last_report[0] < _PROGRESS_EVERY_S:
            return True  # throttled: a cancel is seen at the next stored report, within 0.1 s
        last_report[0] = now
        return records.progress(task_id, fraction, message)

    try:
        if job is None:
            raise LookupError(f"job {name!r} is not in this worker's catalog")
        result = job.run(JobContext(task_id, _redis(), report), args)
    except Cancelled:
        records.transition(
            task_id, (RUNNING,), CANCELLED, finished_ts=now_ms(), runtime_ms=now_ms() - started
        )
        logger.info("task %s (%s) cancelled", task_id, name)
        return None
    except SoftTimeLimitExceeded:
        _fail(records, task_id, started, f"time limit of {_config()['TASK_TIME_LIMIT_S'] - 10}s exceeded")
        raise
    except Exception as exc:
        logger.exception("task %s (%s) failed", task_id, name)
        _fail(records, task_id, started, f"{type(exc).__name__}: {exc}")
        raise
    records.transition(
        task_id,
        (RUNNING,),
        SUCCEEDED,
        finished_ts=now_ms(),
        runtime_ms=now_ms() - started,
        progress=1.0,
        message="done",
        result=result,
    )
    return result


def _fail(records: TaskRecords, task_id: str, started: int, error: str) -> None:
    records.transition(
        task_id, (RUNNING,), FAILED, finished_ts=now_ms(), runtime_ms=now_ms() - started, error=error
    )


class Heartbeat:
    """Tells the health monitor this worker is alive: a ZADD of its hostname every few seconds."""

    def __init__(self, client: redis.Redis, hostname: str, interval: float) -> None:
        self.redis = client
        self.hostname = hostname
        self.interval = interval
        self._stop = threading.Event()

    def run(self) -> None:
        backoff = Backoff(initial=self.interval, cap=max(30.0, self.interval))
        delay = 0.0
        while not self._stop.wait(delay):
            try:
                heartbeats.beat(self.redis, self.hostname)
                backoff.reset()
                delay = self.interval
            except REDIS_UNAVAILABLE_ERRORS:
                delay = backoff.next_delay()
                logger.warning("worker heartbeat: Redis unreachable; retrying in %.1fs", delay)

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(REDIS_UNAVAILABLE_ERRORS):
            heartbeats.forget(self.redis, self.hostname)


@worker_ready.connect
def _start_heartbeat(sender: Any = None, **_: Any) -> None:
    hostname = getattr(sender, "hostname", None) or f"worker@{socket.gethostname()}:{os.getpid()}"
    heartbeat = Heartbeat(connect(_config()["REDIS_URL"]), hostname, _config()["WORKER_HEARTBEAT_INTERVAL_S"])
    _state["heartbeat"] = heartbeat
    threading.Thread(target=heartbeat.run, name="ascep-heartbeat", daemon=True).start()


@worker_shutdown.connect
def _stop_heartbeat(**_: Any) -> None:
    heartbeat = _state.pop("heartbeat", None)
    if heartbeat is not None:
        heartbeat.stop()
