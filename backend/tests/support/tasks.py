"""Real Celery workers and the tasks API's HTTP calls, shared by the task integration tests."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

import psutil
import redis
import requests

import support
from ascep.common.channels import WORKER_HEARTBEATS_KEY
from support.polling import wait_for
from support.processes import ManagedProcess

TESTS_DIR = str(Path(support.__file__).resolve().parents[1])


def worker_env(redis_url: str, **extra: str) -> dict[str, str]:
    """Settings of a test worker (and API): the slow test job loaded, short heartbeats and leases."""
    return {
        **os.environ,
        "REDIS_URL": redis_url,
        "TASK_EXTRA_MODULES": "support.slow_jobs",
        "TASK_LEASE_S": "2",
        "WORKER_HEARTBEAT_INTERVAL_S": "0.5",
        "PYTHONPATH": TESTS_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


class Workers:
    """Starts Celery workers (``celery -A ascep.tasks.celery_app worker``) and kills them all at the end."""

    def __init__(self, redis_url: str, log_dir: Path) -> None:
        self.redis_url = redis_url
        self.log_dir = log_dir
        self.started: list[ManagedProcess] = []

    def start(self, name: str, concurrency: int = 1, **env: str) -> ManagedProcess:
        args = [sys.executable, "-m", "celery", "-A", "ascep.tasks.celery_app", "worker"]
        args += [f"--concurrency={concurrency}", "--pool=prefork", "--loglevel=INFO", f"--hostname={name}@%h"]
        worker = ManagedProcess(name, args, worker_env(self.redis_url, **env), self.log_dir).start()
        self.started.append(worker)
        client = redis.Redis.from_url(self.redis_url, decode_responses=True)
        worker.wait_until(
            lambda: any(m.startswith(f"{name}@") for m in client.zrange(WORKER_HEARTBEATS_KEY, 0, -1)),
            timeout=30,
            what="worker heartbeat",
        )
        return worker

    def kill(self, worker: ManagedProcess) -> None:
        """SIGKILL the worker and its pool children: a crash, no chance to requeue anything."""
        family = [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]
        for process in family:
            process.send_signal(signal.SIGKILL)
        psutil.wait_procs(family, timeout=10)

    def stop_all(self) -> None:
        for worker in reversed(self.started):
            worker.stop(signal.SIGTERM, timeout=15)


def submit(api: str, name: str, args: dict[str, Any]) -> str:
    response = requests.post(api, json={"name": name, "args": args}, timeout=5)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    return response.json()["task_id"]


def task(api: str, task_id: str) -> dict[str, Any]:
    return requests.get(f"{api}/{task_id}", timeout=5).json()["task"]


def wait_status(api: str, task_id: str, status: str, timeout: float = 30) -> dict[str, Any]:
    return wait_for(
        lambda: (t := task(api, task_id))["status"] == status and t,
        timeout=timeout,
        message=f"task {task_id} {status}",
    )
