"""Signals in Redis: ids, the bounded history, the open-signal map, counters, the live config.

Layout (names in :mod:`ascep.common.channels`):

* ``ascep:arbitrage:signal_seq`` — a counter gives each new signal its id, so ids are unique
  across restarts and across instances (a process counter would restart at 1); it is raised to
  the highest id this process issued first, so a Redis that lost its data cannot reissue one;
* ``ascep:arbitrage:signal:<id>`` — the signal's latest JSON document, with a TTL;
* ``ascep:arbitrage:signals`` — sorted set id -> ``last_seen`` (epoch ms): the history index,
  capped at ``history_max`` (the oldest are deleted with their documents) and trimmed by age;
* ``ascep:arbitrage:open`` — hash cycle key -> id of the open signal (a restart resumes them);
* ``ascep:arbitrage:stats`` — lifetime counters by type and severity;
* ``ascep:arbitrage:config`` — the live detector configuration.

Every signal event is one Lua script: document, index, open map, counters, trimming and the
``PUBLISH`` on ``arbitrage_signals`` happen atomically, so a reader never sees a published
signal that is not stored, nor a half-written one.

:class:`SignalStore` is also the reading API for other processes (the HTTP views, the Celery
``signal_report`` task): ``SignalStore(redis_client).between(start_ms, end_ms)``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

import redis

from ascep.common import channels
from ascep.common.events import ConfigChange, encode
from ascep.common.redis_replies import text, texts

logger = logging.getLogger(__name__)

DEFAULT_HISTORY_MAX = 1000
DEFAULT_TTL_S = 86_400

_WRITE_SCRIPT = """
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
if ARGV[7] == 'close' then
  if redis.call('HGET', KEYS[3], ARGV[6]) == ARGV[1] then redis.call('HDEL', KEYS[3], ARGV[6]) end
  redis.call('HINCRBY', KEYS[4], 'closed', 1)
else
  redis.call('HSET', KEYS[3], ARGV[6], ARGV[1])
end
if ARGV[7] == 'open' then
  redis.call('HINCRBY', KEYS[4], 'opened', 1)
  redis.call('HINCRBY', KEYS[4], 'type:' .. ARGV[8], 1)
  redis.call('HINCRBY', KEYS[4], 'severity:' .. ARGV[9], 1)
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[12])
for _, id in ipairs(expired) do redis.call('DEL', ARGV[11] .. id) end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[12]) end
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if excess > 0 then
  local old = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  for _, id in ipairs(old) do redis.call('DEL', ARGV[11] .. id) end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
end
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[3])
if ARGV[7] ~= 'touch' then redis.call('PUBLISH', ARGV[10], ARGV[2]) end
return 1
"""


class SignalStore:
    """Read and write stored signals. Redis errors propagate: callers decide how to degrade."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        history_max: int = DEFAULT_HISTORY_MAX,
        ttl_s: int = DEFAULT_TTL_S,
    ) -> None:
        self.client = client
        self.history_max = history_max
        self.ttl_s = ttl_s
        self._write = client.register_script(_WRITE_SCRIPT)
        self.highest = 0  # the highest id this process issued: the counter's floor
        self._next_id = client.register_script(
            "local c = tonumber(redis.call('GET', KEYS[1]) or '0') "
            "if tonumber(ARGV[1]) > c then c = tonumber(ARGV[1]) end "
            "c = c + 1 redis.call('SET', KEYS[1], c) return c"
        )
        self._raise_seq = client.register_script(
            "if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then "
            "redis.call('SET', KEYS[1], ARGV[1]) end return 1"
        )

    # --- writing (the detector) ---
    def next_id(self) -> int:
        value = int(self._next_id(keys=[channels.ARBITRAGE_SIGNAL_SEQ_KEY], args=[self.highest]))
        self.highest = max(self.highest, value)
        return value

    def ensure_ids_above(self, highest: int) -> None:
        """Never hand out an id at or below ``highest`` (a Redis that lost its data restarts the
        counter at 0 while signals with ids live on in memory)."""
        self._raise_seq(keys=[channels.ARBITRAGE_SIGNAL_SEQ_KEY], args=[highest])

    def write(self, kind: str, payload: dict[str, Any], now_ms: int) -> None:
        """Store ``payload`` (which carries its ``id``) and, unless ``kind`` is ``touch``, publish it."""
        signal_id = payload["id"]
        self._write(
            keys=[
                channels.arbitrage_signal_key(signal_id),
                channels.ARBITRAGE_SIGNALS_INDEX_KEY,
                channels.ARBITRAGE_OPEN_KEY,
                channels.ARBITRAGE_STATS_KEY,
            ],
            args=[
                signal_id,
                encode(payload),
                self.ttl_s,
                payload["last_seen_ts"],
                self.history_max,
                payload["key"],
                kind,
                payload["type"],
                payload["severity"],
                channels.ARBITRAGE_SIGNALS,
                channels.ARBITRAGE_SIGNAL_KEY_PREFIX,
                now_ms - self.ttl_s * 1000,
            ],
        )

    # --- reading (views, tasks) ---
    def get(self, signal_id: int | str) -> dict[str, Any] | None:
        raw = self.client.get(channels.arbitrage_signal_key(signal_id))
        return json.loads(raw) if raw else None

    def _load(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        ids = list(ids)
        if not ids:
            return []
        raws = self.client.mget([channels.arbitrage_signal_key(i) for i in ids])
        return [json.loads(raw) for raw in raws if raw]

    def recent(self, since_ms: int | None = None) -> list[dict[str, Any]]:
        """Every stored signal seen at or after ``since_ms``, most recently seen first."""
        low = "-inf" if since_ms is None else since_ms
        ids = texts(self.client.zrevrangebyscore(channels.ARBITRAGE_SIGNALS_INDEX_KEY, "+inf", low))
        return self._load(ids)

    def query(
        self,
        *,
        limit: int = 100,
        type: str | None = None,
        status: str | None = None,
        min_spread: float | None = None,
        since_ms: int | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """Filtered signals, most recently seen first, and how many matched before ``limit``."""
        matching = [
            s
            for s in self.recent(since_ms)
            if (type is None or s.get("type") == type)
            and (status is None or s.get("status") == status)
            and (min_spread is None or s.get("spread_percentage", 0.0) >= min_spread)
        ]
        return matching[:limit], len(matching)

    def between(self, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
        """Signals alive at some point in ``[start_ms, end_ms]``, oldest first — for reports."""
        ids = texts(self.client.zrangebyscore(channels.ARBITRAGE_SIGNALS_INDEX_KEY, start_ms, "+inf"))
        alive = [s for s in self._load(ids) if s.get("first_seen_ts", 0) <= end_ms]
        return sorted(alive, key=lambda s: (s.get("first_seen_ts", 0), s.get("id", 0)))

    def open_signals(self) -> list[dict[str, Any]]:
        ids = texts(self.client.hvals(channels.ARBITRAGE_OPEN_KEY))
        return [s for s in self._load(ids) if s.get("status") == "open"]

    def open_count(self) -> int:
        return int(self.client.hlen(channels.ARBITRAGE_OPEN_KEY))

    def counters(self) -> dict[str, int]:
        return {text(k): int(v) for k, v in self.client.hgetall(channels.ARBITRAGE_STATS_KEY).items()}

    # --- live configuration ---
    def load_config(self) -> dict[str, Any] | None:
        raw = self.client.get(channels.ARBITRAGE_CONFIG_KEY)
        return json.loads(raw) if raw else None

    def restore_config(self, config: dict[str, Any]) -> bool:
        """After Redis lost its data: store the live ``config`` unless one was saved since."""
        return bool(self.client.set(channels.ARBITRAGE_CONFIG_KEY, encode(config), nx=True))

    def save_config(self, config: dict[str, Any]) -> None:
        """Persist the config and tell every instance (they also re-read it on reconnect)."""
        document = encode(config)
        pipe = self.client.pipeline(transaction=True)
        pipe.set(channels.ARBITRAGE_CONFIG_KEY, document)
        pipe.publish(channels.CONFIG_CHANGES, encode(ConfigChange("arbitrage", config).to_dict()))
        pipe.execute()
