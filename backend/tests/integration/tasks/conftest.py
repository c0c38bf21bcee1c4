"""Fixtures of the task tests: real Celery workers, the tasks API and the gateway in front."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support.processes import HttpService
from support.stack import gateway_env
from support.tasks import Workers, worker_env


@pytest.fixture
def workers(redis_url: str, tmp_path: Path) -> Iterator[Workers]:
    """Start Celery workers with ``workers.start(name)``; all are stopped when the test ends."""
    pool = Workers(redis_url, tmp_path)
    yield pool
    pool.stop_all()


@pytest.fixture
def stack(
    start_service: Callable[..., HttpService], redis_url: str, upstream: HttpService, workers: Workers
) -> dict[str, Any]:
    """The tasks API behind a real gateway; ``api`` is the gateway's ``/api/tasks``."""
    tasks = start_service("tasks", "ascep.tasks", worker_env(redis_url))
    gateway = start_service("gateway", "ascep.gateway", gateway_env(redis_url, upstream, TASKS_URL=tasks.url))
    return {"tasks": tasks, "gateway": gateway, "api": f"{gateway.url}/api/tasks"}
