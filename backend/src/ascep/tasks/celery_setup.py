"""Build the Celery application from settings (``make_celery``), without building one on import.

The tasks API and the worker each call :func:`make_celery` once: the API in its app factory (kept
in ``app.extensions["tasks.celery"]``, only ever used to send), the worker in the worker-only
module :mod:`ascep.tasks.celery_app` (``celery -A ascep.tasks.celery_app worker``), as Flask's
Celery example does. Importing this module therefore builds nothing.

Delivery guarantees, chosen so that a job is never silently lost:

* the task *record* (``ascep.tasks.records``) is the truth; a broker message only wakes a worker
  up. A worker starts a record only if it is ``queued``, so a duplicate message is harmless;
* ``task_acks_late`` — a message is acknowledged when the job *ends*, not when it starts;
* ``task_reject_on_worker_lost`` — a pool child killed mid-job puts the message back at once;
* ``worker_disable_prefetch`` (and ``worker_prefetch_multiplier=1``) — a worker takes a message
  only when a pool slot is free, so a dead worker strands nothing it had not started;
* leases and a reaper (``ascep.tasks.reaper``) — a running task whose process stopped renewing its
  lease is queued again (or fails with ``worker lost``), a queued task whose message vanished
  (taken by a worker killed before it could record it) is sent again;
* the broker's ``visibility_timeout`` just above the time limit — the last backstop;
* soft and hard time limits bound every job.

A job may therefore run more than once (``attempts`` in its record says so); jobs are read-only
reports, exports and backtests, so running one again is harmless.

Results live in the task records only: Celery's result backend is not used (it kept a second
copy of every result for a day). Every broker key is under ``channels.CELERY_KEY_PREFIX``.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from ascep.common import channels
from ascep.tasks.settings import TasksSettings

RUN_TASK = "ascep.tasks.run"

#: Added to the time limit when ``TASK_VISIBILITY_TIMEOUT_S`` is 0 (automatic).
VISIBILITY_MARGIN_S = 60


def visibility_timeout(settings: TasksSettings) -> int:
    """The configured visibility timeout, or the time limit plus a margin when it is 0."""
    return settings.task_visibility_timeout_s or settings.task_time_limit_s + VISIBILITY_MARGIN_S


def broker_options(visibility: int) -> dict[str, Any]:
    """Redis transport options: key prefix, and how soon a dead worker's message is put back.

    kombu sweeps for expired unacknowledged messages every ``unacked_restore_interval`` seconds
    but scans only every ``unacked_restore_throttle``-th sweep (defaults 10 and 10: up to 100 s on
    top of the visibility timeout). Every sweep scans here, at most every 10 s.
    """
    return {
        "global_keyprefix": channels.CELERY_KEY_PREFIX,
        "visibility_timeout": visibility,
        "unacked_restore_interval": max(1, min(10, visibility // 2)),
        "unacked_restore_throttle": 1,
    }


def make_celery(settings: TasksSettings) -> Celery:
    limit = settings.task_time_limit_s
    app = Celery("ascep", broker=settings.redis_url, include=["ascep.tasks.worker"])
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=channels.CELERY_QUEUE,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_disable_prefetch=True,
        task_time_limit=limit,
        task_soft_time_limit=limit - 10,
        broker_transport_options=broker_options(visibility_timeout(settings)),
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
    )
    app.conf.ascep = settings  # the worker's typed settings
    return app
