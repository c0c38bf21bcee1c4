"""Everything the tasks API process holds, and its lifecycle (``app.extensions["ascep.tasks"]``).

The API runs nothing in the background — jobs, heartbeats and the reaper live in the Celery
worker (:mod:`.worker`, stopped by Celery's own warm shutdown) — so :meth:`TasksRuntime.start` and
:meth:`TasksRuntime.stop` only say so; they exist so every service has the same lifecycle.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
from celery import Celery

from ascep.tasks.catalog import Catalog
from ascep.tasks.records import TaskRecords
from ascep.tasks.settings import TasksSettings

logger = logging.getLogger(__name__)


@dataclass
class TasksRuntime:
    """Task records, the job catalog and the Celery client the API queues jobs with."""

    settings: TasksSettings
    redis: redis.Redis
    records: TaskRecords
    catalog: Catalog
    celery: Celery

    def start(self) -> None:
        logger.info("tasks API: %d jobs in the catalog", len(list(self.catalog)))

    def stop(self) -> None:
        self.redis.close()
