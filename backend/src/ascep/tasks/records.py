"""Task records in Redis: the one place status, progress, timings and results are read from.

Celery knows a message, not "recent tasks", progress, attempts or cancellation, and it forgets a
message a killed worker had taken. So the API and the worker keep a small hash per task and change
its status only through the Lua scripts of :mod:`ascep.tasks.scripts`. Every change is published
as a ``task_update`` event.

Memory is bounded by settings: at most ``history_size`` records (creating one deletes the oldest
beyond it, result included), each expiring ``ttl_s`` after its last status change, each result at
most ``TASK_RESULT_MAX_BYTES`` (enforced by the worker).

Life of a record::

    queued ──start (worker)──> running ──> succeeded | failed | cancelled (the run holding run_id)
      │  ^                        │
      │  └──lease ran out (reaper)┘──> failed "worker lost" (after TASK_MAX_ATTEMPTS runs)
      └──cancel (API)──> cancelled
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import redis
from redis.typing import EncodableT, FieldT

from ascep.common import channels
from ascep.common.bus import publish
from ascep.common.events import TaskUpdate
from ascep.common.redis_replies import text_map, texts
from ascep.common.timeutil import iso_utc, now_ms
from ascep.tasks import scripts

logger = logging.getLogger(__name__)

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
FINISHED = (SUCCEEDED, FAILED, CANCELLED)
STATUSES = (QUEUED, RUNNING, *FINISHED)

_JSON_FIELDS = ("args", "result")
_INT_FIELDS = ("attempts", "submitted_ts", "queued_ts", "started_ts", "finished_ts", "runtime_ms", "lease_ms")
#: Internal fields, not shown to API clients.
_PRIVATE_FIELDS = ("run_id", "lease_ms")


class TaskRecords:
    def __init__(self, client: redis.Redis, history_size: int, ttl_s: int) -> None:
        self.redis = client
        self.history_size = history_size
        self.ttl_s = ttl_s
        self._transition = client.register_script(scripts.TRANSITION)
        self._progress = client.register_script(scripts.PROGRESS)
        self._renew = client.register_script(scripts.RENEW)

    def create(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        task_id = uuid.uuid4().hex
        ts = now_ms()
        fields: dict[FieldT, EncodableT] = {
            "id": task_id,
            "name": name,
            "args": json.dumps(args),
            "status": QUEUED,
            "progress": 0.0,
            "message": "",
            "attempts": 0,
            "submitted_ts": ts,
            "queued_ts": ts,
        }
        key = channels.task_key(task_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key, mapping=fields)
        pipe.expire(key, self.ttl_s)
        pipe.zadd(channels.TASKS_INDEX_KEY, {task_id: ts})
        pipe.zrange(channels.TASKS_INDEX_KEY, 0, -self.history_size - 1)
        *_, evicted = pipe.execute()
        if evicted:
            self._forget(evicted)
        record = self.get(task_id)
        assert record is not None
        self._announce(record)
        return record

    def _forget(self, task_ids: list[str]) -> None:
        """Delete records beyond the history (a queued one is then skipped by the worker)."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(*(channels.task_key(t) for t in task_ids))
        pipe.zrem(channels.TASKS_INDEX_KEY, *task_ids)
        pipe.execute()
        logger.debug("forgot %d task records beyond the history of %d", len(task_ids), self.history_size)

    def get(self, task_id: str) -> dict[str, Any] | None:
        raw = self.redis.hgetall(channels.task_key(task_id))
        return _decode(text_map(raw)) if raw else None

    def recent(self, limit: int, status: str | None = None) -> list[dict[str, Any]]:
        ids = texts(self.redis.zrevrange(channels.TASKS_INDEX_KEY, 0, -1 if status else limit - 1))
        records = [r for r in self.raw_many(ids) if r]
        if status:
            records = [r for r in records if r["status"] == status]
        return [_summary(r) for r in records[:limit]]

    def raw_many(self, task_ids: list[str]) -> list[dict[str, Any] | None]:
        """Full records (private fields included) of ``task_ids``, in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for task_id in task_ids:
            pipe.hgetall(channels.task_key(task_id))
        return [_decode(raw) if raw else None for raw in pipe.execute()]

    def ids(self) -> list[str]:
        return texts(self.redis.zrange(channels.TASKS_INDEX_KEY, 0, -1))

    def transition(
        self,
        task_id: str,
        allowed: tuple[str, ...],
        status: str,
        *,
        attempt: bool = False,
        held_by: str = "",
        lease_ended_before: int | None = None,
        **fields: Any,
    ) -> tuple[bool, str, int]:
        """Move to ``status`` if allowed; returns (moved, status before, attempts after).

        ``held_by``: only if the record is held by that run (its ``run_id``).
        ``lease_ended_before``: a running record qualifies only if its lease ended before that
        epoch ms. A field set to ``None`` is deleted.
        """
        flat: list[Any] = []
        for name, value in fields.items():
            if value is None:
                flat += [name, ""]
            else:
                flat += [name, json.dumps(value) if name in _JSON_FIELDS else value]
        moved, before, attempts = self._transition(
            keys=[channels.task_key(task_id)],
            args=[
                ",".join(allowed),
                status,
                "1" if attempt else "0",
                held_by,
                "" if lease_ended_before is None else lease_ended_before,
                self.ttl_s,
                *flat,
            ],
        )
        if moved:
            record = self.get(task_id)
            if record is not None:
                self._announce(record)
        return bool(moved), before, int(attempts)

    def start(self, task_id: str, worker: str, lease_ms: int) -> tuple[str | None, str, int]:
        """Move a queued record to running; returns (run id or None, status before, attempts)."""
        run_id = uuid.uuid4().hex
        moved, before, attempts = self.transition(
            task_id,
            (QUEUED,),
            RUNNING,
            attempt=True,
            started_ts=now_ms(),
            progress=0.0,
            message="started",
            worker=worker,
            run_id=run_id,
            lease_ms=lease_ms,
        )
        return (run_id if moved else None), before, attempts

    def progress(self, task_id: str, run_id: str, fraction: float, message: str) -> bool:
        """Store progress; ``False`` when the run should stop (cancel requested, lost, gone)."""
        reply = self._progress(keys=[channels.task_key(task_id)], args=[run_id, round(fraction, 4), message])
        if not reply or not int(reply[0]):
            return False
        flat = reply[1:]
        self._announce(_decode(dict(zip(flat[::2], flat[1::2], strict=True))))
        return True

    def renew(self, leases: dict[str, str], until_ms: int) -> int:
        """Extend the lease of each task (id -> run id) its run still holds; returns how many."""
        if not leases:
            return 0
        task_ids = list(leases)
        return int(
            self._renew(
                keys=[channels.task_key(t) for t in task_ids],
                args=[until_ms, *(leases[t] for t in task_ids)],
            )
        )

    def request_cancel(self, task_id: str) -> tuple[bool, str]:
        """Queued: cancelled at once. Running: flagged, the job stops at its next progress report."""
        moved, before, _ = self.transition(
            task_id, (QUEUED,), CANCELLED, finished_ts=now_ms(), message="cancelled before it started"
        )
        if moved or before != RUNNING:
            return moved, before
        self.redis.hset(channels.task_key(task_id), "cancel_requested", 1)
        return True, before

    def _announce(self, record: dict[str, Any]) -> None:
        try:
            publish(self.redis, channels.TASK_UPDATES, TaskUpdate.from_dict(_summary(record)).to_dict())
        except redis.RedisError:
            logger.warning("task %s: could not publish task_update", record.get("id"))


def _decode(raw: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = dict(raw)
    for name in _JSON_FIELDS:
        if name in record:
            record[name] = json.loads(record[name])
    for name in _INT_FIELDS:
        if name in record:
            record[name] = int(float(record[name]))
    record["progress"] = float(record.get("progress", 0))
    record["cancel_requested"] = bool(int(record.get("cancel_requested", 0)))
    for name in ("submitted", "started", "finished"):
        ts = record.get(f"{name}_ts")
        record[f"{name}_at"] = iso_utc(ts) if ts else None
    record.setdefault("result", None)
    record.setdefault("error", None)
    return record


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A record as API clients see it: without the fencing token and lease."""
    return {k: v for k, v in record.items() if k not in _PRIVATE_FIELDS}


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    """A public record without its result (results can be large; ``GET /tasks/<id>`` has them)."""
    return {k: v for k, v in public(record).items() if k != "result"} | {
        "has_result": record.get("result") is not None
    }
