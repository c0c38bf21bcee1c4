"""Rules and alerts in Redis: the shared truth every engine process loads from.

Rules live in one hash (id -> JSON). Ids and versions both come from one counter, so they are
unique across restarts and processes, and a version tells which of two updates is newer. The
counter is raised atomically to a *floor* first — the highest id or version this process has seen
or issued (and what the engine holds in memory) — so a Redis that lost its data, and with it the
counter, can never hand out an id again (README: rule ids are never reused). After such a loss,
:meth:`RuleStore.restore` writes the rules the engine still holds back (without overwriting a rule
created since).
Every change is written and announced on ``CEP_RULE_CHANGES`` in one ``MULTI`` transaction (a
creation in one Lua script, which also enforces ``CEP_MAX_RULES``): an engine that sees the
message can trust the hash already holds the change.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import redis

from ascep.cep.triggers import TriggerStore, with_triggers
from ascep.common import channels
from ascep.common.events import RuleChange, encode
from ascep.common.redis_client import LazyClient
from ascep.common.timeutil import iso_utc

logger = logging.getLogger(__name__)

#: Store a *new* rule and announce it, unless the hash already holds ``max`` rules. One script, so
#: the count and the write are one atomic step for every engine process sharing the Redis: two
#: creations racing for the last place cannot both pass (a check-then-write from Python could).
#: KEYS: rules hash. ARGV: rule id, rule JSON, max rules, changes channel, change message.
_CREATE_CAPPED = """
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
    return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
"""


class RuleLimitReached(Exception):
    """``limit`` rules are stored already (``CEP_MAX_RULES``): delete one before creating another."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} rules may be stored; delete one first")
        self.limit = limit


#: ``max(counter, floor) + 1``, stored and returned atomically.
_NEXT_ID_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(ARGV[1])
if floor > current then current = floor end
current = current + 1
redis.call('SET', KEYS[1], current)
return current
"""

#: Write back each rule that is missing (``HSETNX``) and raise the counter to the floor.
_RESTORE_SCRIPT = """
local restored = 0
for i = 2, #ARGV, 2 do
  restored = restored + redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1])
end
if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], ARGV[1])
end
return restored
"""


class RuleStore:
    def __init__(
        self, client: redis.Redis, max_rules: int | None = None, floor: Callable[[], int] = lambda: 0
    ) -> None:
        self.client = client
        self.max_rules = max_rules
        self._create_capped = client.register_script(_CREATE_CAPPED)
        self.floor = floor  # the highest id/version the engine holds in memory
        self.highest = 0  # the highest id/version this store has issued or read
        self._next_id = client.register_script(_NEXT_ID_SCRIPT)
        self._restore = client.register_script(_RESTORE_SCRIPT)

    def _seen(self, docs: Iterable[Mapping[str, Any]]) -> None:
        for doc in docs:
            for field in ("rule_id", "version"):
                value = doc.get(field)
                if isinstance(value, int) and value > self.highest:
                    self.highest = value

    def _next(self) -> int:
        floor = max(self.highest, self.floor())
        value = int(self._next_id(keys=[channels.CEP_RULE_SEQ_KEY], args=[floor]))
        self.highest = max(self.highest, value)
        return value

    def restore(self, docs: Iterable[Mapping[str, Any]]) -> int:
        """Write back ``docs`` that Redis no longer has; how many were missing.

        Not announced on ``CEP_RULE_CHANGES``: the engines that lost nothing in memory need
        nothing, and a rule changed since (present in the hash) is never overwritten.
        """
        docs = list(docs)
        self._seen(docs)
        args: list[Any] = [max(self.highest, self.floor())]
        for doc in docs:
            args += [str(doc["rule_id"]), encode(doc)]
        return int(self._restore(keys=[channels.CEP_RULES_KEY, channels.CEP_RULE_SEQ_KEY], args=args))

    def _save(self, doc: dict[str, Any]) -> dict[str, Any]:
        self._seen([doc])
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(channels.CEP_RULES_KEY, str(doc["rule_id"]), encode(doc))
        pipe.publish(channels.CEP_RULE_CHANGES, encode(RuleChange.upsert(doc).to_dict()))
        pipe.execute()
        return doc

    def create(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        """Store ``spec`` as a new rule; :class:`RuleLimitReached` when ``max_rules`` exist."""
        if self.max_rules is not None and self.client.hlen(channels.CEP_RULES_KEY) >= self.max_rules:
            raise RuleLimitReached(self.max_rules)  # cheap early answer; the script decides
        rule_id = self._next()
        now = iso_utc()
        doc = {
            "rule_id": rule_id,
            **spec,
            "version": rule_id,
            "created_at": now,
            "updated_at": now,
            "error": None,
        }
        if self.max_rules is None:
            return self._save(doc)
        stored = self._create_capped(
            keys=[channels.CEP_RULES_KEY],
            args=[str(rule_id), encode(doc), self.max_rules, channels.CEP_RULE_CHANGES,
                  encode(RuleChange.upsert(doc).to_dict())],
        )  # fmt: skip
        if not stored:
            raise RuleLimitReached(self.max_rules)
        return doc

    def get(self, rule_id: int) -> dict[str, Any] | None:
        raw = self.client.hget(channels.CEP_RULES_KEY, str(rule_id))
        doc = json.loads(raw) if raw else None
        if doc is not None:
            self._seen([doc])
        return doc

    def all(self) -> list[dict[str, Any]]:
        docs = [json.loads(raw) for raw in self.client.hvals(channels.CEP_RULES_KEY)]
        self._seen(docs)
        return sorted(docs, key=lambda d: d["rule_id"])

    def listed(self) -> list[dict[str, Any]]:
        """Every rule with its ``trigger_count`` and ``last_triggered`` (one round trip)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hvals(channels.CEP_RULES_KEY)
        pipe.hgetall(channels.CEP_RULE_TRIGGERS_KEY)
        raws, triggers = pipe.execute()
        docs = [json.loads(raw) for raw in raws]
        self._seen(docs)
        return with_triggers(sorted(docs, key=lambda d: d["rule_id"]), triggers)

    def shown(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """One rule as the API shows it: with its ``trigger_count`` and ``last_triggered``."""
        rule_id = doc["rule_id"]
        count, last = self.client.hmget(
            channels.CEP_RULE_TRIGGERS_KEY, [f"{rule_id}:count", f"{rule_id}:last"]
        )
        found = {k: v for k, v in ((f"{rule_id}:count", count), (f"{rule_id}:last", last)) if v is not None}
        return with_triggers([dict(doc)], found)[0]

    def replace(self, current: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
        """Store ``spec`` as the new content of ``current`` (same id and creation time)."""
        doc = {
            "rule_id": current["rule_id"],
            **spec,
            "version": self._next(),
            "created_at": current.get("created_at"),
            "updated_at": iso_utc(),
            "error": None,
        }
        return self._save(doc)

    def delete(self, rule_id: int) -> bool:
        pipe = self.client.pipeline(transaction=True)
        pipe.hdel(channels.CEP_RULES_KEY, str(rule_id))
        pipe.publish(channels.CEP_RULE_CHANGES, encode(RuleChange.delete(rule_id).to_dict()))
        TriggerStore.forget(pipe, rule_id)
        removed, *_ = pipe.execute()
        return bool(removed)

    def record_error(self, rule_id: int, message: str) -> dict[str, Any] | None:
        """Disable a rule that raised, keeping why and when, for every process and the API."""
        current = self.get(rule_id)
        if current is None:
            return None
        doc = {**current, "enabled": False, "version": self._next(), "updated_at": iso_utc(),
               "error": {"message": message, "at": iso_utc()}}  # fmt: skip
        return self._save(doc)


class AlertStore:
    """The latest alerts (newest first), capped; what ``GET /alerts`` reads."""

    def __init__(self, client_factory: Callable[[], redis.Redis], capacity: int) -> None:
        self._redis = LazyClient(client_factory)
        self.capacity = capacity

    @property
    def client(self) -> redis.Redis:
        return self._redis.get()

    def push(self, pipe: redis.client.Pipeline, encoded: Iterable[str]) -> None:
        """Queue the storage of ``encoded`` alerts on ``pipe`` (the caller executes it)."""
        items = list(encoded)
        if items:
            pipe.lpush(channels.CEP_ALERTS_KEY, *items)
            pipe.ltrim(channels.CEP_ALERTS_KEY, 0, self.capacity - 1)

    def recent(self, limit: int, rule_id: int | None = None) -> list[dict[str, Any]]:
        raws = self.client.lrange(channels.CEP_ALERTS_KEY, 0, self.capacity - 1)
        out: list[dict[str, Any]] = []
        for raw in raws:
            try:
                alert = json.loads(raw)
            except ValueError:
                continue
            if rule_id is None or alert.get("rule_id") == rule_id:
                out.append(alert)
                if len(out) >= limit:
                    break
        return out
