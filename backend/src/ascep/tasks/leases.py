"""Leases: how a process running a task proves it is still alive, without Celery's help.

A worker killed with SIGKILL tells nobody. So the process running a task renews a lease on the
task's record every third of ``TASK_LEASE_S`` from a daemon thread; the reaper treats a running
record whose lease ran out as lost. A run that went past its hard time limit is no longer renewed
either: if the process enforcing the limit (the worker's main process) died, its orphaned pool
child cannot hold the task forever.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS
from ascep.common.timeutil import now_ms
from ascep.tasks.records import TaskRecords

logger = logging.getLogger(__name__)


class LeaseKeeper:
    """Renews the leases of the tasks this process runs (one thread per process, started lazily)."""

    def __init__(self, records: Callable[[], TaskRecords], lease_s: float, time_limit_s: float) -> None:
        self._records = records
        self.lease_s = lease_s
        self.time_limit_s = time_limit_s
        self._held: dict[str, tuple[str, float]] = {}  # task id -> (run id, monotonic deadline)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def lease_end(self) -> int:
        """Epoch ms at which a lease taken or renewed now ends."""
        return now_ms() + int(self.lease_s * 1000)

    def hold(self, task_id: str, run_id: str) -> None:
        with self._lock:
            self._held[task_id] = (run_id, time.monotonic() + self.time_limit_s)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ascep-task-leases", daemon=True)
                self._thread.start()

    def release(self, task_id: str) -> None:
        with self._lock:
            self._held.pop(task_id, None)

    def _run(self) -> None:
        interval = self.lease_s / 3
        while True:
            time.sleep(interval)  # the renewal period itself, not a synchronisation
            now = time.monotonic()
            with self._lock:
                leases = {t: run for t, (run, deadline) in self._held.items() if deadline > now}
            if not leases:
                continue
            try:
                self._records().renew(leases, self.lease_end())
            except REDIS_UNAVAILABLE_ERRORS:
                logger.warning("could not renew %d task leases: Redis unreachable", len(leases))
