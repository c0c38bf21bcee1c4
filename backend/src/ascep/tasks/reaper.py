"""The reaper: every task ends ``succeeded``, ``failed`` (with a reason) or runs again.

A worker killed outright (SIGKILL, OOM, lost machine) leaves two kinds of orphans, which Celery's
own guarantees (``acks_late``, the visibility timeout) recover only after the visibility timeout,
if at all:

* a ``running`` record whose process died: its lease (``ascep.tasks.leases``) runs out. The
  reaper queues it again and re-sends its message — or, after ``TASK_MAX_ATTEMPTS`` runs, fails it
  with ``worker lost`` (cancels it, if a cancel was requested);
* a ``queued`` record whose message is nowhere in the broker (taken by a worker killed between
  ``BRPOP`` and recording it as unacknowledged, or never sent): after ``TASK_LEASE_S`` the reaper
  sends it again.

Every worker runs the loop; a short lock makes one of them sweep per round. Duplicate messages
are harmless: a worker starts only a ``queued`` record (see ``ascep.tasks.celery_app``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from kombu.exceptions import OperationalError

from ascep.common import channels
from ascep.common.loops import PeriodicLoop
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS
from ascep.common.timeutil import now_ms
from ascep.tasks.broker_state import pending_task_ids
from ascep.tasks.records import CANCELLED, FAILED, QUEUED, RUNNING, TaskRecords

logger = logging.getLogger(__name__)

Resend = Callable[[dict[str, Any]], None]


class Reaper:
    def __init__(self, records: TaskRecords, resend: Resend, lease_s: float, max_attempts: int) -> None:
        self.records = records
        self.resend = resend
        self.lease_ms = int(lease_s * 1000)
        self.max_attempts = max_attempts

    def sweep(self) -> dict[str, int]:
        """One reconciliation round; returns what it did (for logs and tests)."""
        now = now_ms()
        done = {"requeued": 0, "failed": 0, "cancelled": 0, "resent": 0}
        records = [r for r in self.records.raw_many(self.records.ids()) if r]
        for record in records:
            if record["status"] == RUNNING and record.get("lease_ms", 0) < now:
                outcome = self._recover(record, now)
                if outcome:
                    done[outcome] += 1
        stale = [
            r
            for r in records
            if r["status"] == QUEUED and now - r.get("queued_ts", r["submitted_ts"]) > self.lease_ms
        ]
        if stale:
            pending = pending_task_ids(self.records.redis, (now - self.lease_ms) / 1000)
            for record in stale:
                if record["id"] not in pending and self._resend_lost_message(record, now):
                    done["resent"] += 1
        if any(done.values()):
            logger.warning("reaper: %s", done)
        return done

    def _recover(self, record: dict[str, Any], now: int) -> str | None:
        """A running record whose lease ran out: cancel, fail or queue it again (None: raced)."""
        task_id, attempts = record["id"], record.get("attempts", 0)
        held_by: str = record.get("run_id", "")
        fields: dict[str, Any]
        if record["cancel_requested"]:
            outcome, status, fields = "cancelled", CANCELLED, {"message": "cancelled (its worker was lost)"}
        elif attempts >= self.max_attempts:
            outcome, status = "failed", FAILED
            fields = {
                "error": f"worker lost: each of its {attempts} runs was interrupted",
                "message": "failed",
            }
        else:
            outcome, status = "requeued", QUEUED
            fields = {
                "message": "worker lost; queued again",
                "queued_ts": now,
                "run_id": None,
                "lease_ms": None,
            }
        if status != QUEUED:
            fields |= {"finished_ts": now, "runtime_ms": now - record.get("started_ts", now)}
        moved, _, _ = self.records.transition(
            task_id, (RUNNING,), status, held_by=held_by, lease_ended_before=now, **fields
        )
        if not moved:
            return None
        logger.warning(
            "task %s (%s): worker lost after %d run(s): %s", task_id, record["name"], attempts, outcome
        )
        if status == QUEUED:
            self.resend(record)
        return outcome

    def _resend_lost_message(self, record: dict[str, Any], now: int) -> bool:
        moved, _, _ = self.records.transition(
            record["id"], (QUEUED,), QUEUED, queued_ts=now, message="message lost; sent again"
        )
        if moved:
            logger.warning("task %s (%s): its message was lost; sent again", record["id"], record["name"])
            self.resend(record)
        return moved


class ReaperLoop(PeriodicLoop):
    """Runs :meth:`Reaper.sweep` every third of the lease, one worker at a time (a Redis lock)."""

    label = "reaper"
    errors = (*REDIS_UNAVAILABLE_ERRORS, OperationalError)

    def __init__(self, reaper: Reaper, client: redis.Redis, owner: str, interval: float) -> None:
        super().__init__(interval)
        self.reaper = reaper
        self.redis = client
        self.owner = owner

    def step(self) -> None:
        lock_ms = max(1, int(self.interval * 1000 * 0.9))
        if self.redis.set(channels.TASKS_REAPER_LOCK_KEY, self.owner, nx=True, px=lock_ms):
            started = time.monotonic()
            self.reaper.sweep()
            logger.debug("reaper sweep took %.3fs", time.monotonic() - started)
