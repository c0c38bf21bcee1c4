"""Which tasks still have a message in the Redis broker: the reaper's view into kombu's keys.

kombu's Redis transport keeps a queue as a list (one per priority step: ``<queue>`` for priority
0, ``<queue>\\x06\\x16<n>`` for the others) and every delivered but unacknowledged message in a
hash (``unacked``: delivery tag -> ``[message, exchange, routing key]``) indexed by delivery time
(``unacked_index``), all under our ``global_keyprefix``. Messages are JSON with the task id in
``headers.id`` (Celery's message protocol 2).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import redis

from ascep.common import channels

logger = logging.getLogger(__name__)

#: kombu's default ``priority_steps`` and the separator of per-priority queue names.
_PRIORITY_STEPS = (0, 3, 6, 9)
_PRIORITY_SEP = "\x06\x16"


def queue_keys(queue: str = channels.CELERY_QUEUE) -> list[str]:
    base = channels.CELERY_KEY_PREFIX + queue
    return [base if step == 0 else f"{base}{_PRIORITY_SEP}{step}" for step in _PRIORITY_STEPS]


def _task_id(message: Any) -> str | None:
    if not isinstance(message, dict):
        return None
    headers = message.get("headers") or {}
    properties = message.get("properties") or {}
    task_id = headers.get("id") or properties.get("correlation_id")
    return task_id if isinstance(task_id, str) else None


def _loads(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        logger.warning("unreadable broker message ignored: %.80r", raw)
        return None


def pending_task_ids(client: redis.Redis, delivered_since_s: float) -> set[str]:
    """Ids of tasks whose message waits in the queue, or was delivered after ``delivered_since_s``.

    A message delivered earlier and still unacknowledged, for a task still ``queued``, belongs to
    a worker that died before it could start it: not counted, so the reaper sends it again.
    """
    pipe = client.pipeline(transaction=False)
    keys = queue_keys()
    for key in keys:
        pipe.lrange(key, 0, -1)
    pipe.hgetall(channels.CELERY_UNACKED_KEY)
    pipe.zrangebyscore(channels.CELERY_UNACKED_INDEX_KEY, delivered_since_s, "+inf")
    *queued, unacked, recent_tags = pipe.execute()
    found = {_task_id(_loads(raw)) for entries in queued for raw in entries}
    recent = set(recent_tags)
    for tag, raw in unacked.items():
        entry = _loads(raw)
        if tag in recent and isinstance(entry, list) and entry:
            found.add(_task_id(entry[0]))
    found.discard(None)
    return found  # type: ignore[return-value]
