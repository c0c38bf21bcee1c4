"""The Celery application: ``celery -A ascep.tasks.celery_app worker``.

Delivery guarantees, chosen so that a job is never silently lost:

* ``task_acks_late`` — a message is acknowledged when the job *ends*, not when it starts;
* ``task_reject_on_worker_lost`` — a pool child killed mid-job puts the message back at once;
* the Redis broker's ``visibility_timeout`` — a message taken by a worker that died entirely
  (SIGKILL, lost machine) is handed to another worker after ``TASK_VISIBILITY_TIMEOUT_S``;
* ``worker_prefetch_multiplier=1`` — a worker holds one waiting message per pool slot, so a dead
  worker strands as little as possible;
* soft and hard time limits bound every job.

A job may therefore run more than once (``attempts`` in its record says so); jobs are read-only
reports, exports and backtests, so running one again is harmless.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from celery import Celery

from ascep.common.config import load_settings
from ascep.common.service import service_settings
from ascep.tasks.settings import SETTINGS

RUN_TASK = "ascep.tasks.run"


def broker_options(visibility_timeout: int) -> dict[str, Any]:
    """Redis transport options: how soon a dead worker's task is handed to another one.

    kombu sweeps for expired unacknowledged messages every ``unacked_restore_interval`` seconds
    but scans only every ``unacked_restore_throttle``-th sweep (defaults 10 and 10: up to 100 s on
    top of the visibility timeout). Every sweep scans here, at most every 10 s, so a lost task is
    redone within ``visibility_timeout`` plus a few seconds.
    """
    return {
        "visibility_timeout": visibility_timeout,
        "unacked_restore_interval": max(1, min(10, visibility_timeout // 2)),
        "unacked_restore_throttle": 1,
    }


def make_celery(config: Mapping[str, Any]) -> Celery:
    url = config["REDIS_URL"]
    limit = config["TASK_TIME_LIMIT_S"]
    app = Celery("ascep", broker=url, backend=url, include=["ascep.tasks.worker"])
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=limit,
        task_soft_time_limit=limit - 10,
        task_track_started=True,
        result_expires=config["TASK_RECORD_TTL_S"],
        broker_transport_options=broker_options(config["TASK_VISIBILITY_TIMEOUT_S"]),
        result_backend_transport_options={"visibility_timeout": config["TASK_VISIBILITY_TIMEOUT_S"]},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
    )
    app.conf.ascep = dict(config)
    return app


celery_app = make_celery(load_settings(service_settings(SETTINGS)))
