"""Splits in Redis: one hash written only by Lua scripts, and the per-arm counts of all gateways.

* ``SPLITS_KEY`` (hash, service -> JSON record). Each write is one script that bumps the split's
  ``generation`` to ``max(previous + 1, now in ms)`` (it keeps increasing even if Redis lost the
  hash) and rings ``SPLIT_CHANGES``, so every gateway re-reads the hash at once.
* The rollback is a script too: it applies only if the split still has the generation the
  judging process saw and a canary share above 0, so when several processes reach the same
  verdict exactly one rolls back, publishes ``split_rollback`` and counts it.
* Counts: each process adds its local deltas to the hash of the current time bucket of the
  split's generation (``split_stats_key``, expiring after the window) and reads back the
  window's buckets — one pipelined round trip per split per sync interval, never per request.

Called from the sync loop and the admin API only, never on the proxy's request path.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from typing import Any, cast

import redis

from ascep.common import channels
from ascep.common.errors import ValidationFailed
from ascep.common.timeutil import iso_utc
from ascep.gateway.upstreams.rollback import ArmTotals, Kind, WindowTotals
from ascep.gateway.upstreams.splits import CANARY, STABLE, Arm, Split

logger = logging.getLogger(__name__)

#: Buckets a rollback window is cut into (the window slides in steps of window / this).
WINDOW_BUCKETS = 12

# KEYS[1] splits hash; ARGV: changes channel, service, record JSON, now (ms)
_PUT = """
local raw = redis.call('HGET', KEYS[1], ARGV[2])
local gen = 0
if raw then gen = tonumber(cjson.decode(raw).generation) or 0 end
local rec = cjson.decode(ARGV[3])
rec.generation = math.max(gen + 1, tonumber(ARGV[4]))
local encoded = cjson.encode(rec)
redis.call('HSET', KEYS[1], ARGV[2], encoded)
redis.call('PUBLISH', ARGV[1], cjson.encode({service=ARGV[2], op='put', generation=rec.generation}))
return encoded
"""

# KEYS[1] splits hash; ARGV: changes channel, service
_DELETE = """
local removed = redis.call('HDEL', KEYS[1], ARGV[2])
if removed == 1 then
  redis.call('PUBLISH', ARGV[1], cjson.encode({service=ARGV[2], op='delete'}))
end
return removed
"""

# KEYS[1] splits hash; ARGV: changes channel, event channel, service, expected generation,
# rolled_back JSON, now (ms)
_ROLLBACK = """
local raw = redis.call('HGET', KEYS[1], ARGV[3])
if not raw then return false end
local rec = cjson.decode(raw)
if tonumber(rec.generation) ~= tonumber(ARGV[4]) or tonumber(rec.canary_bp) == 0 then return false end
local info = cjson.decode(ARGV[5])
info.basis_points_before = rec.canary_bp
rec.canary_bp = 0
rec.rolled_back = info
rec.updated_at = info.at
rec.generation = math.max(rec.generation + 1, tonumber(ARGV[6]))
local encoded = cjson.encode(rec)
redis.call('HSET', KEYS[1], ARGV[3], encoded)
redis.call('PUBLISH', ARGV[1], cjson.encode({service=ARGV[3], op='rollback', generation=rec.generation}))
local event = {service=ARGV[3], stable=rec.stable, canary=rec.canary, generation=rec.generation}
for k, v in pairs(info) do event[k] = v end
redis.call('PUBLISH', ARGV[2], cjson.encode(event))
return encoded
"""

_FIELDS: tuple[tuple[Arm, Kind], ...] = (
    (STABLE, "requests"),
    (STABLE, "errors"),
    (CANARY, "requests"),
    (CANARY, "errors"),
)


class SplitStore:
    """The scripts and the counts, bound to one Redis client (short timeouts)."""

    def __init__(self, client: redis.Redis, *, key: str = channels.SPLITS_KEY) -> None:
        self.client = client
        self.key = key
        self._put = client.register_script(_PUT)
        self._delete = client.register_script(_DELETE)
        self._rollback = client.register_script(_ROLLBACK)

    # --- the splits ------------------------------------------------------------------------
    def read_all(self) -> dict[str, Split]:
        """Every split (one ``HGETALL``); a malformed record is skipped and logged."""
        splits: dict[str, Split] = {}
        for service, raw in cast(dict[str, str], self.client.hgetall(self.key)).items():
            try:
                splits[service] = Split.from_record(json.loads(raw))
            except (ValueError, TypeError, ValidationFailed) as exc:
                logger.warning("ignoring a malformed split record for %r (%s)", service, exc)
        return splits

    def put(self, split: Split, now_ms: int) -> Split:
        """Write ``split`` (a new generation; any earlier rollback is cleared) and ring the bell."""
        record = {**split.record(), "updated_at": iso_utc(now_ms), "rolled_back": None}
        reply = self._put(
            keys=[self.key], args=[channels.SPLIT_CHANGES, split.service, json.dumps(record), now_ms]
        )
        return Split.from_record(json.loads(cast(str, reply)))

    def delete(self, service: str) -> bool:
        return bool(self._delete(keys=[self.key], args=[channels.SPLIT_CHANGES, service]))

    def rollback(self, split: Split, verdict: Mapping[str, Any], now_ms: int) -> Split | None:
        """Set the canary to 0 if ``split`` is still current; the new split, or ``None`` if not."""
        info = {**verdict, "at": iso_utc(now_ms)}
        reply = self._rollback(
            keys=[self.key],
            args=[
                channels.SPLIT_CHANGES,
                channels.SPLIT_ROLLBACK,
                split.service,
                split.generation,
                json.dumps(info),
                now_ms,
            ],
        )
        return Split.from_record(json.loads(cast(str, reply))) if reply else None

    # --- the counts ------------------------------------------------------------------------
    def add_and_sum(
        self, split: Split, deltas: Mapping[tuple[Arm, Kind], int], now: float, window_s: float
    ) -> WindowTotals:
        """Add this process's ``deltas`` ((arm, "requests"|"errors") -> n) to the current bucket of
        ``split``'s generation and return the window's totals over all processes."""
        width = window_s / WINDOW_BUCKETS
        current = math.floor(now / width)
        pipe = self.client.pipeline(transaction=False)
        changed = {f"{arm}:{kind}": n for (arm, kind), n in deltas.items() if n}
        if changed:
            key = channels.split_stats_key(split.service, split.generation, current)
            for name, n in changed.items():
                pipe.hincrby(key, name, n)
            pipe.expire(key, math.ceil(window_s + 2 * width))
        fields = [f"{arm}:{kind}" for arm, kind in _FIELDS]
        for index in range(current - WINDOW_BUCKETS + 1, current + 1):
            pipe.hmget(channels.split_stats_key(split.service, split.generation, index), fields)
        replies = pipe.execute()[-WINDOW_BUCKETS:]
        sums = [0, 0, 0, 0]
        for row in replies:
            for i, value in enumerate(row):
                sums[i] += int(value or 0)
        return WindowTotals(stable=ArmTotals(sums[0], sums[1]), canary=ArmTotals(sums[2], sums[3]))
