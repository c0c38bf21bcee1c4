"""The breakers' shared state in Redis: one hash, changed only by atomic Lua scripts.

Every decision several gateway processes must agree on is one script run, so it happens once:
opening a closed breaker, turning an expired open breaker half-open, taking one of the
``half_open_probes`` probe slots (the budget is created with the half-open round and decremented
atomically: exactly that many calls reach the instance, whichever processes receive the
traffic), and applying a probe's result. The script that changes a breaker also publishes the
``circuit_state`` event, so a state is never changed without the other processes (and the
dashboards) being told; a process that missed the message still converges on the next resync
of the hash (:mod:`.breaker_sync`).

Nothing here depends on one process staying alive: an OPEN breaker ends when *any* process asks
for a probe after ``open_until``, and a half-open round whose probes never report (the process
holding them died) starts over after ``probe_timeout_s``. Generations are
``max(previous + 1, now in ms)``, so they keep increasing even after Redis lost the hash.

Called on the request path only while a breaker is not closed (see :mod:`.breakers`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, cast

import redis

from ascep.common import channels
from ascep.common.timeutil import iso_utc
from ascep.gateway.upstreams.breaker import BreakerOptions, Outcome, SharedRecord, State, Transition
from ascep.gateway.upstreams.model import UpstreamKey

logger = logging.getLogger(__name__)

# KEYS[1] breakers hash; ARGV: channel, field, now (ms), at (ISO), then per script.
_PRELUDE = """
local hash, channel, field, now, at = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local rec
local raw = redis.call('HGET', hash, field)
if raw then rec = cjson.decode(raw) else
  rec = {state='closed', gen=0, open_until=0, deadline=0, budget=0, successes=0, probes=0}
end
local previous = false
local function change(state, reason, rate, volume)
  previous = rec.state
  rec.state, rec.gen, rec.changed_at, rec.reason = state, math.max(rec.gen + 1, now), now, reason
  rec.failure_rate, rec.volume = rate or cjson.null, volume or cjson.null
  if state ~= 'open' then rec.open_until = 0 end
  if state ~= 'half_open' then rec.deadline, rec.budget, rec.successes = 0, 0, 0 end
end
local function half_open_round(probes, timeout_ms)
  rec.budget, rec.successes, rec.probes, rec.deadline = probes, 0, probes, now + timeout_ms
end
local function finish(admitted)
  redis.call('HSET', hash, field, cjson.encode(rec))
  if previous then
    local sep = string.find(field, '/', 1, true)
    redis.call('PUBLISH', channel, cjson.encode({
      service=string.sub(field, 1, sep - 1), instance=string.sub(field, sep + 1),
      state=rec.state, previous=previous, at=at, ts=now, reason=rec.reason,
      failure_rate=rec.failure_rate, volume=rec.volume, generation=rec.gen,
      open_until=(rec.state == 'open') and rec.open_until or cjson.null}))
  end
  return cjson.encode({admitted=admitted, previous=previous, record=rec})
end
"""

# ARGV[5] open (ms), ARGV[6] reason, ARGV[7] failure rate ('' = none), ARGV[8] volume.
_OPEN = (
    _PRELUDE
    + """
if rec.state ~= 'closed' then return cjson.encode({admitted=false, previous=false, record=rec}) end
rec.open_until = now + tonumber(ARGV[5])
change('open', ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8]))
return finish(false)
"""
)

# ARGV[5] probes, ARGV[6] probe timeout (ms).
_ACQUIRE_PROBE = (
    _PRELUDE
    + """
local probes, timeout_ms = tonumber(ARGV[5]), tonumber(ARGV[6])
if rec.state == 'closed' or (rec.state == 'open' and now < rec.open_until) then
  return cjson.encode({admitted=false, previous=false, record=rec})
end
if rec.state == 'open' then
  change('half_open', 'open period elapsed')
  half_open_round(probes, timeout_ms)
elseif now >= rec.deadline then
  rec.gen = math.max(rec.gen + 1, now)
  half_open_round(probes, timeout_ms)
end
local admitted = false
if rec.budget > 0 then
  rec.budget = rec.budget - 1
  admitted = true
end
return finish(admitted)
"""
)

# ARGV[5] generation of the probe's round, ARGV[6] outcome, ARGV[7] open (ms).
_REPORT_PROBE = (
    _PRELUDE
    + """
if rec.state ~= 'half_open' or rec.gen ~= tonumber(ARGV[5]) then
  return cjson.encode({admitted=false, previous=false, record=rec})
end
local outcome = ARGV[6]
if outcome == 'failure' then
  rec.open_until = now + tonumber(ARGV[7])
  change('open', 'a half-open probe failed')
elseif outcome == 'success' then
  rec.successes = rec.successes + 1
  if rec.successes >= rec.probes then
    change('closed', rec.probes .. ' half-open probes succeeded')
  end
else
  rec.budget = rec.budget + 1
end
return finish(false)
"""
)


@dataclass(frozen=True, slots=True)
class StoreReply:
    """What a script decided: ``previous`` is set when it changed the state (and published)."""

    record: SharedRecord
    admitted: bool = False
    previous: State | None = None


def decode_record(raw: str | dict[str, Any]) -> SharedRecord:
    """A record as the scripts store it (times in epoch ms) -> :class:`SharedRecord` (seconds)."""
    data = json.loads(raw) if isinstance(raw, str) else raw
    state = data.get("state")
    if state not in ("closed", "open", "half_open"):
        raise ValueError(f"unknown breaker state {state!r}")
    rate, volume = data.get("failure_rate"), data.get("volume")
    return SharedRecord(
        state=cast(State, state),
        generation=int(data.get("gen", 0)),
        open_until=float(data.get("open_until", 0)) / 1000,
        probe_deadline=float(data.get("deadline", 0)) / 1000,
        reason=data.get("reason") or None,
        failure_rate=float(rate) if isinstance(rate, int | float) else None,
        volume=int(volume) if isinstance(volume, int | float) else None,
    )


def parse_field(field: str) -> UpstreamKey:
    service, _, instance = field.partition("/")
    return UpstreamKey(service, instance)


class BreakerStore:
    """The scripts, bound to one Redis client (short timeouts: it is asked on the request path)."""

    def __init__(
        self, client: redis.Redis, *, key: str = channels.BREAKERS_KEY, channel: str = channels.CIRCUIT_STATE
    ) -> None:
        self.client = client
        self.key = key
        self.channel = channel
        self._open = client.register_script(_OPEN)
        self._acquire = client.register_script(_ACQUIRE_PROBE)
        self._report = client.register_script(_REPORT_PROBE)

    def _run(self, script: Any, key: UpstreamKey, now: float, *extra: object) -> StoreReply:
        now_ms = int(now * 1000)
        args = [self.channel, str(key), now_ms, iso_utc(now_ms), *extra]
        reply = json.loads(script(keys=[self.key], args=args))
        previous = reply.get("previous")
        return StoreReply(
            record=decode_record(reply["record"]),
            admitted=bool(reply.get("admitted")),
            previous=previous if isinstance(previous, str) else None,  # type: ignore[arg-type]
        )

    def open(
        self, key: UpstreamKey, transition: Transition, options: BreakerOptions, now: float
    ) -> StoreReply:
        """Open a closed breaker (a process's window tripped); an open or half-open one is kept."""
        rate = "" if transition.failure_rate is None else repr(transition.failure_rate)
        volume = "" if transition.volume is None else str(transition.volume)
        return self._run(self._open, key, now, int(options.open_s * 1000), transition.reason, rate, volume)

    def acquire_probe(self, key: UpstreamKey, options: BreakerOptions, now: float) -> StoreReply:
        """Take one probe slot, turning an expired open breaker half-open first."""
        return self._run(
            self._acquire, key, now, options.half_open_probes, int(options.probe_timeout_s * 1000)
        )

    def report_probe(
        self, key: UpstreamKey, generation: int, outcome: Outcome, options: BreakerOptions, now: float
    ) -> StoreReply:
        """A probe's result: a failure re-opens, the last success closes, ``ignored`` frees the slot."""
        return self._run(self._report, key, now, generation, outcome, int(options.open_s * 1000))

    def read(self, key: UpstreamKey) -> SharedRecord | None:
        raw = self.client.hget(self.key, str(key))
        if not raw:
            return None
        try:
            return decode_record(cast(str, raw))
        except (ValueError, TypeError, KeyError):
            logger.warning("ignoring a malformed breaker record for %s", key)
            return None

    def read_all(self) -> dict[UpstreamKey, SharedRecord]:
        """Every breaker's record (one ``HGETALL``: the hash has one field per instance)."""
        records: dict[UpstreamKey, SharedRecord] = {}
        for field, raw in cast(dict[str, str], self.client.hgetall(self.key)).items():
            try:
                records[parse_field(field)] = decode_record(raw)
            except (ValueError, TypeError, KeyError):
                logger.warning("ignoring a malformed breaker record for %s", field)
        return records
