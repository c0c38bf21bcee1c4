"""Runtime overrides in Redis: one hash, written only by Lua scripts that also ring the bell.

``RATE_LIMITS_KEY`` holds target -> ``{"limit", "updated_at", "generation"}``. A write bumps the
record's generation to ``max(previous + 1, now in ms)`` (it keeps increasing even if Redis lost
the hash) and publishes on ``RATE_LIMIT_CHANGES`` in the same script, so the change and its
announcement cannot diverge. Called by the admin API and the sync loop, never per request.
"""

from __future__ import annotations

import json
import logging
from typing import cast

import redis

from ascep.common import channels
from ascep.common.timeutil import iso_utc
from ascep.gateway.ratelimit.spec import LimitSpecError, parse_limit
from ascep.gateway.ratelimit.table import Override

logger = logging.getLogger(__name__)

# KEYS[1] overrides hash; ARGV: changes channel, target, record JSON, now (ms)
_PUT = """
local raw = redis.call('HGET', KEYS[1], ARGV[2])
local gen = 0
if raw then gen = tonumber(cjson.decode(raw).generation) or 0 end
local rec = cjson.decode(ARGV[3])
rec.generation = math.max(gen + 1, tonumber(ARGV[4]))
local encoded = cjson.encode(rec)
redis.call('HSET', KEYS[1], ARGV[2], encoded)
redis.call('PUBLISH', ARGV[1], cjson.encode({target=ARGV[2], op='put', generation=rec.generation}))
return encoded
"""

# KEYS[1] overrides hash; ARGV: changes channel, target
_DELETE = """
local removed = redis.call('HDEL', KEYS[1], ARGV[2])
if removed == 1 then
  redis.call('PUBLISH', ARGV[1], cjson.encode({target=ARGV[2], op='delete'}))
end
return removed
"""


def override_from_record(raw: str) -> Override:
    """An override from its stored JSON; ``ValueError`` when it is not one."""
    record = json.loads(raw)
    if not isinstance(record, dict) or not isinstance(record.get("updated_at"), str):
        raise ValueError("not an override record")
    generation = record.get("generation")
    if isinstance(generation, bool) or not isinstance(generation, int | float):
        raise ValueError("generation must be a number")
    return Override(parse_limit(record.get("limit")), record["updated_at"], int(generation))


class OverrideStore:
    """The overrides hash, bound to a Redis client with short timeouts."""

    def __init__(self, client: redis.Redis, *, key: str = channels.RATE_LIMITS_KEY) -> None:
        self.client = client
        self.key = key
        self._put = client.register_script(_PUT)
        self._delete = client.register_script(_DELETE)

    def read_all(self) -> dict[str, Override]:
        """Every stored override (one ``HGETALL``); a malformed record is skipped and logged."""
        found: dict[str, Override] = {}
        for target, raw in cast(dict[str, str], self.client.hgetall(self.key)).items():
            try:
                found[target] = override_from_record(raw)
            except (ValueError, TypeError, LimitSpecError) as exc:
                logger.warning("ignoring a malformed rate-limit override for %r (%s)", target, exc)
        return found

    def put(self, target: str, limit: str, now_ms: int) -> Override:
        record = {"limit": limit, "updated_at": iso_utc(now_ms)}
        reply = self._put(
            keys=[self.key], args=[channels.RATE_LIMIT_CHANGES, target, json.dumps(record), now_ms]
        )
        return override_from_record(cast(str, reply))

    def delete(self, target: str) -> bool:
        return bool(self._delete(keys=[self.key], args=[channels.RATE_LIMIT_CHANGES, target]))
