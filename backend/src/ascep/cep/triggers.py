"""How often each rule fired and when it last did, shared by every engine process (in Redis).

The original ASCEP rules list carried ``last_triggered`` and ``trigger_count``; clients read them.
A firing is counted by the engine process that *acts* on it — the one that won the alert's claim
(:meth:`ascep.cep.actions.ActionRunner._claim`) — so with several engine processes each match is
counted once. The counts live in one hash beside the rules, not in the rule documents: a firing
must not bump the rule's version (every engine would reload it) and a rule update must not lose
the count. One Lua script adds a batch's counts and keeps the newest time (``max``, so two
processes writing out of order never move it backwards); it rides in the pipeline that publishes
the batch's alerts, so counting costs no extra round trip.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import redis

from ascep.common import channels
from ascep.common.redis_replies import text_map
from ascep.common.timeutil import iso_utc

#: KEYS: the triggers hash. ARGV: (rule id, firings, epoch ms) triples.
_RECORD = """
for i = 1, #ARGV, 3 do
  redis.call('HINCRBY', KEYS[1], ARGV[i] .. ':count', ARGV[i + 1])
  local last = tonumber(redis.call('HGET', KEYS[1], ARGV[i] .. ':last') or '0')
  if tonumber(ARGV[i + 2]) > last then
    redis.call('HSET', KEYS[1], ARGV[i] .. ':last', ARGV[i + 2])
  end
end
return 1
"""


class TriggerStore:
    def __init__(self, client: redis.Redis) -> None:
        self._record = client.register_script(_RECORD)

    def record(self, pipe: redis.client.Pipeline, fired: Iterable[int], at_ms: int) -> None:
        """Queue on ``pipe`` one firing per item of ``fired`` (rule ids), all at ``at_ms``."""
        counts = Counter(fired)
        if not counts:
            return
        args: list[Any] = []
        for rule_id, count in sorted(counts.items()):
            args += [rule_id, count, at_ms]
        self._record(keys=[channels.CEP_RULE_TRIGGERS_KEY], args=args, client=pipe)

    @staticmethod
    def forget(pipe: redis.client.Pipeline, rule_id: int) -> None:
        """Queue the removal of a deleted rule's counts."""
        pipe.hdel(channels.CEP_RULE_TRIGGERS_KEY, f"{rule_id}:count", f"{rule_id}:last")


def with_triggers(rules: list[dict[str, Any]], raw: Mapping[Any, Any]) -> list[dict[str, Any]]:
    """``rules`` with ``trigger_count`` (int) and ``last_triggered`` (ISO UTC or ``None``) added,
    from the triggers hash as read (``HGETALL``)."""
    values = text_map(raw)
    out = []
    for rule in rules:
        rule_id = rule.get("rule_id")
        last = values.get(f"{rule_id}:last")
        out.append(
            {
                **rule,
                "trigger_count": int(values.get(f"{rule_id}:count", "0")),
                "last_triggered": iso_utc(int(last)) if last else None,
            }
        )
    return out
