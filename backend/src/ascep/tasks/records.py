"""Task records in Redis: the one place status, progress, timings and results are read from.

Celery's result backend knows a task's final state, but not "recent tasks", progress, attempts or
cancellation, and it forgets tasks still queued. So the API and the worker keep a small hash per
task and change its status only through :data:`_TRANSITION`, a Lua script: "start" and "cancel"
racing each other can never both win. Every change is published as a ``task_update`` event.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import redis

from ascep.common import channels
from ascep.common.bus import publish
from ascep.common.timeutil import iso_utc, now_ms

logger = logging.getLogger(__name__)

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
FINISHED = (SUCCEEDED, FAILED, CANCELLED)

# KEYS[1] record; ARGV[1] allowed statuses (comma-separated); ARGV[2] new status;
# ARGV[3] 1 to count an attempt; ARGV[4..] field/value pairs. Returns {ok, status before}.
_TRANSITION = """
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return {0, ''} end
for allowed in string.gmatch(ARGV[1], '[^,]+') do
  if allowed == current then
    redis.call('HSET', KEYS[1], 'status', ARGV[2])
    if ARGV[3] == '1' then redis.call('HINCRBY', KEYS[1], 'attempts', 1) end
    for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
    return {1, current}
  end
end
return {0, current}
"""

_JSON_FIELDS = ("args", "result")
_INT_FIELDS = ("attempts", "submitted_ts", "started_ts", "finished_ts", "runtime_ms")


class TaskRecords:
    def __init__(self, client: redis.Redis, history_size: int, ttl_s: int) -> None:
        self.redis = client
        self.history_size = history_size
        self.ttl_s = ttl_s
        self._transition = client.register_script(_TRANSITION)

    def create(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        task_id = uuid.uuid4().hex
        ts = now_ms()
        fields = {
            "id": task_id,
            "name": name,
            "args": json.dumps(args),
            "status": QUEUED,
            "progress": 0.0,
            "message": "",
            "attempts": 0,
            "submitted_ts": ts,
        }
        key = channels.task_key(task_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key, mapping=fields)
        pipe.expire(key, self.ttl_s)
        pipe.zadd(channels.TASKS_INDEX_KEY, {task_id: ts})
        pipe.zremrangebyrank(channels.TASKS_INDEX_KEY, 0, -self.history_size - 1)
        pipe.execute()
        record = self.get(task_id)
        assert record is not None
        self._announce(record)
        return record

    def get(self, task_id: str) -> dict[str, Any] | None:
        raw = self.redis.hgetall(channels.task_key(task_id))
        return _decode(raw) if raw else None

    def recent(self, limit: int, status: str | None = None) -> list[dict[str, Any]]:
        ids = self.redis.zrevrange(channels.TASKS_INDEX_KEY, 0, -1 if status else limit - 1)
        pipe = self.redis.pipeline(transaction=False)
        for task_id in ids:
            pipe.hgetall(channels.task_key(task_id))
        records = [_decode(raw) for raw in pipe.execute() if raw]
        if status:
            records = [r for r in records if r["status"] == status]
        return [_summary(r) for r in records[:limit]]

    def transition(
        self, task_id: str, allowed: tuple[str, ...], status: str, *, attempt: bool = False, **fields: Any
    ) -> tuple[bool, str]:
        """Move to ``status`` if the record is in one of ``allowed``; returns (moved, status before)."""
        flat: list[Any] = []
        for name, value in fields.items():
            flat += [name, json.dumps(value) if name in _JSON_FIELDS else value]
        moved, before = self._transition(
            keys=[channels.task_key(task_id)],
            args=[",".join(allowed), status, "1" if attempt else "0", *flat],
        )
        if moved:
            record = self.get(task_id)
            if record is not None:
                self._announce(record)
        return bool(moved), before

    def progress(self, task_id: str, fraction: float, message: str) -> bool:
        """Store progress; ``False`` when the task should stop (cancel requested or not running)."""
        key = channels.task_key(task_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key, mapping={"progress": round(fraction, 4), "message": message})
        pipe.hgetall(key)
        _, raw = pipe.execute()
        if not raw:
            return False
        record = _decode(raw)
        self._announce(record)
        return record["status"] == RUNNING and not record["cancel_requested"]

    def request_cancel(self, task_id: str) -> tuple[bool, str]:
        """Queued: cancelled at once. Running: flagged, the job stops at its next progress report."""
        moved, before = self.transition(task_id, (QUEUED,), CANCELLED, finished_ts=now_ms())
        if moved or before != RUNNING:
            return moved, before
        self.redis.hset(channels.task_key(task_id), "cancel_requested", 1)
        return True, before

    def _announce(self, record: dict[str, Any]) -> None:
        try:
            publish(self.redis, channels.TASK_UPDATES, _summary(record))
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


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    """A record without its result (results can be large; ``GET /tasks/<id>`` has them)."""
    return {k: v for k, v in record.items() if k != "result"} | {
        "has_result": record.get("result") is not None
    }
