"""Who is being rate limited right now: the admin listing's ``limited``, across every gateway.

Each process notes its own refusals in memory (:class:`RefusalLog`: a dict update per refusal,
nothing on the request path touches Redis for it) and its sync loop writes what changed to one
Redis hash every ``RATE_LIMIT_SYNC_INTERVAL`` (:class:`SharedRefusals`), so any gateway answers
for all of them. A client counts as limited while its last refusal is less than
:data:`WINDOW_S` old; ``refused`` counts the refusals since it started being refused (an episode
ends when it has not been refused for a window). At most :data:`MAX_CLIENTS` clients per process
are kept (the oldest refusal goes first), so a flood of distinct addresses costs bounded memory
and a bounded hash.

The client is shown as the limiter counts it (``key:<id>``, ``sub:<subject>``, ``ip:<address>``):
an administrator needs to know whom to call. The Redis keys of the counters themselves keep
using a digest; this hash holds the raw identity for at most one window, like a log line would.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from ascep.common import channels
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS
from ascep.common.timeutil import iso_utc

logger = logging.getLogger(__name__)

#: A client refused within the last this many seconds is "being limited right now".
WINDOW_S = 60.0
#: Clients one process keeps (and writes) at most.
MAX_CLIENTS = 1000
#: Clients the listing shows at most (most recently refused first).
MAX_LISTED = 200
_SEP = "\x1f"


@dataclass(slots=True)
class _Entry:
    refused: int
    last: float
    retry_after_s: int


class RefusalLog:
    """This process's recent refusals by ``(target, client)``; pure bookkeeping, no I/O."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._dirty: set[tuple[str, str]] = set()
        self._lock = threading.Lock()  # the threading/gevent servers refuse from several threads

    def record(self, target: str, client: str, retry_after_s: int) -> None:
        with self._lock:
            self._record_locked(target, client, retry_after_s)

    def _record_locked(self, target: str, client: str, retry_after_s: int) -> None:
        now = self.clock()
        key = (target, client)
        entry = self._entries.get(key)
        if entry is None or now - entry.last > WINDOW_S:  # a new episode
            entry = self._entries[key] = _Entry(0, now, retry_after_s)
        entry.refused += 1
        entry.last = now
        entry.retry_after_s = retry_after_s
        self._entries.move_to_end(key)
        self._dirty.add(key)
        while len(self._entries) > MAX_CLIENTS:
            oldest, _ = self._entries.popitem(last=False)
            self._dirty.add(oldest)

    def changes(self) -> tuple[dict[tuple[str, str], dict[str, Any]], list[tuple[str, str]]]:
        """What to write since the last call: current entries changed, and entries gone or stale."""
        with self._lock:
            return self._changes_locked()

    def _changes_locked(self) -> tuple[dict[tuple[str, str], dict[str, Any]], list[tuple[str, str]]]:
        now = self.clock()
        for key in [k for k, e in self._entries.items() if now - e.last > WINDOW_S]:
            del self._entries[key]
            self._dirty.add(key)
        dirty, self._dirty = self._dirty, set()
        upserts = {k: self._record(k, self._entries[k]) for k in dirty if k in self._entries}
        return upserts, [k for k in dirty if k not in self._entries]

    def recent(self) -> list[dict[str, Any]]:
        now = self.clock()
        with self._lock:
            return [self._record(k, e) for k, e in self._entries.items() if now - e.last <= WINDOW_S]

    @staticmethod
    def _record(key: tuple[str, str], entry: _Entry) -> dict[str, Any]:
        return {
            "target": key[0],
            "client": key[1],
            "refused": entry.refused,
            "last_ms": int(entry.last * 1000),
            "retry_after_s": entry.retry_after_s,
        }


class SharedRefusals:
    """Writes this process's refusals to Redis and reads every process's back."""

    def __init__(self, log: RefusalLog, client: redis.Redis, process: str) -> None:
        self.log = log
        self.client = client
        self.process = process
        self.write_errors = 0

    def _field(self, key: tuple[str, str]) -> str:
        return _SEP.join((self.process, *key))

    def flush(self) -> None:
        """One pipelined round trip when something changed (called by the sync loop); never raises."""
        upserts, gone = self.log.changes()
        if not upserts and not gone:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            if upserts:
                pipe.hset(
                    channels.RATE_LIMITED_KEY,
                    mapping={self._field(k): json.dumps(v) for k, v in upserts.items()},
                )
            if gone:
                pipe.hdel(channels.RATE_LIMITED_KEY, *(self._field(k) for k in gone))
            pipe.pexpire(channels.RATE_LIMITED_KEY, int(WINDOW_S * 2000))  # a dead process's fields go too
            pipe.execute()
        except REDIS_UNAVAILABLE_ERRORS as exc:
            self.write_errors += 1
            logger.debug("rate limits: could not share refusals (%s)", exc)

    def listing(self) -> list[dict[str, Any]]:
        """Every client refused in the last window by any process, summed; this process's own
        refusals only when Redis cannot be read."""
        now_ms = int(self.log.clock() * 1000)
        try:
            raw = self.client.hvals(channels.RATE_LIMITED_KEY)
            records = [json.loads(value) for value in raw]
        except (*REDIS_UNAVAILABLE_ERRORS, ValueError):
            records = self.log.recent()
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for record in records:
            if not isinstance(record, dict) or now_ms - int(record.get("last_ms", 0)) > WINDOW_S * 1000:
                continue
            key = (str(record.get("target")), str(record.get("client")))
            seen = merged.get(key)
            if seen is None:
                merged[key] = dict(record)
            else:
                seen["refused"] += int(record.get("refused", 0))
                if record["last_ms"] > seen["last_ms"]:
                    seen["last_ms"], seen["retry_after_s"] = record["last_ms"], record.get("retry_after_s")
        listed = sorted(merged.values(), key=lambda r: r["last_ms"], reverse=True)[:MAX_LISTED]
        for record in listed:
            record["last_refused_at"] = iso_utc(record.pop("last_ms"))
        return listed
