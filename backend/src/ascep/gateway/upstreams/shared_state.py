"""Share health transitions and ejections between gateway processes through Redis (Kong#9588).

Every process keeps its own :class:`Upstream` objects and reads only them on the hot path. What
one process decides reaches the others in three ways:

* **a write**: a background writer runs one Lua script per decision that updates the instance's
  field in the service's hash (``upstream_routing_key(service)``) and publishes the new state on
  ``UPSTREAM_ROUTING_CHANGES``, atomically. For an ejection the script also enforces the share
  limit across *all* processes (two processes ejecting two different instances in the same
  instant cannot get 2 of 3 out) and computes the authoritative ``times_ejected`` and end time,
  which the deciding process then applies instead of its provisional local ejection (or undoes
  it, when the script refused).
* **pub/sub**: every process applies each published state to its local copy at once (well under
  the 1 s the issue allows).
* **resync**: on every (re)subscribe and every ``resync_interval`` a process reads the hashes of
  its services (``HGETALL`` per service, no ``SCAN``), so a starting process learns the current
  state and a dropped message is repaired.

Times in Redis are epoch seconds (processes do not share a monotonic clock); each process turns
them into its own ``time.monotonic()`` when it applies them. A remote state never shortens a
local ejection (it ends by itself), and a health state is not applied over a local decision that
is still being written. Hash fields of instances that went away stay (a few bytes each) and are
harmless: an ejection in them has expired within ``max_ejection_s``.

Active checks run in one process at a time (:mod:`.health_lease`): the holder of a lease
(``UPSTREAM_HEALTH_LEADER_KEY``, renewed every third of its life) checks every instance and
publishes its transitions; the others adopt them. So N gateways do not multiply the check load
on every instance, and two processes that see an instance differently (a partial network fault)
cannot flap it. If the leader dies, the lease expires and another process takes over. While Redis
is unreachable every process checks on its own and applies its own decisions.
"""

from __future__ import annotations

import logging
import queue
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import redis

from ascep.common import channels
from ascep.common.events import EventFormatError, decode
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS
from ascep.common.subscriber import BusSubscriber
from ascep.gateway.upstreams.active_health import HealthTracker
from ascep.gateway.upstreams.model import Upstream, UpstreamKey
from ascep.gateway.upstreams.outliers import EjectionState, OutlierOptions, max_ejectable

logger = logging.getLogger(__name__)

Change = Literal["healthy", "unhealthy", "ejected", "returned"]
#: Told about every change this process applies: (instance, change, "local" or "remote").
ChangeHandler = Callable[[Upstream, Change, str], None]

_APPLY = """
local function decode(raw)
  if raw then
    local ok, rec = pcall(cjson.decode, raw)
    if ok and type(rec) == 'table' then return rec end
  end
  return {healthy = true, ejected_until = 0, times_ejected = 0}
end
local now = tonumber(ARGV[3])
local rec = decode(redis.call('HGET', KEYS[1], ARGV[1]))
local ejected_until = tonumber(rec.ejected_until) or 0
if ARGV[2] == 'health' then
  local healthy = ARGV[7] == '1'
  if rec.healthy == healthy then return {'same', cjson.encode(rec)} end
  rec.healthy = healthy
  rec.health_at = now
else
  if ejected_until > now then return {'already', cjson.encode(rec)} end
  local out = 0
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    if all[i] ~= ARGV[1] and (tonumber(decode(all[i + 1]).ejected_until) or 0) > now then
      out = out + 1
    end
  end
  if out >= tonumber(ARGV[9]) then return {'refused', cjson.encode(rec)} end
  local times = tonumber(rec.times_ejected) or 0
  local max_s = tonumber(ARGV[8])
  if ejected_until > 0 and now - ejected_until >= max_s then times = 0 end
  times = times + 1
  rec.times_ejected = times
  rec.ejected_until = now + math.min(tonumber(ARGV[7]) * times, max_s)
end
rec.by = ARGV[4]
rec.at = now
local encoded = cjson.encode(rec)
redis.call('HSET', KEYS[1], ARGV[1], encoded)
redis.call('PUBLISH', ARGV[5], cjson.encode({service = ARGV[6], instance = ARGV[1], state = rec}))
return {'applied', encoded}
"""


@dataclass(frozen=True, slots=True)
class _Write:
    upstream: Upstream
    kind: Literal["health", "eject"]
    at: float  # epoch seconds of the decision
    healthy: bool = True
    previous: EjectionState | None = None
    options: OutlierOptions | None = None
    peers: int = 0


class RoutingStateSync(BusSubscriber):
    """Publishes this process's decisions and applies everyone's (see the module docstring)."""

    label = "upstream routing sync"

    def __init__(
        self,
        client: redis.Redis,
        redis_url: str,
        tracker: HealthTracker,
        instances: Callable[[], Iterable[Upstream]],
        on_change: ChangeHandler,
        *,
        me: str,
        sleep: Callable[[float], Any],
        resync_interval: float = 5.0,
        queue_max: int = 1000,
    ) -> None:
        super().__init__(
            redis_url, [channels.UPSTREAM_ROUTING_CHANGES], sleep=sleep, tick_interval=resync_interval
        )
        self.client = client
        self.tracker = tracker
        self.instances = instances
        self.on_change = on_change
        self.me = me
        self._script = client.register_script(_APPLY)
        self._writes: queue.Queue[_Write] = queue.Queue(maxsize=queue_max)
        self._pending: Counter[UpstreamKey] = Counter()
        self.dropped_writes = 0
        self.refused_ejections = 0

    # --- outgoing ------------------------------------------------------------------------
    def publish_health(self, upstream: Upstream, healthy: bool, at: float) -> None:
        self._enqueue(_Write(upstream, "health", at, healthy=healthy))

    def publish_ejection(
        self, upstream: Upstream, previous: EjectionState, options: OutlierOptions, peers: int
    ) -> None:
        self._enqueue(_Write(upstream, "eject", time.time(), previous=previous, options=options, peers=peers))

    def _enqueue(self, write: _Write) -> None:
        try:
            self._writes.put_nowait(write)
            self._pending[write.upstream.key] += 1
        except queue.Full:
            self.dropped_writes += 1
            logger.warning("routing state of %s not shared: write queue full", write.upstream.key)

    def run_writer(self) -> None:
        """Forever: write queued decisions, retrying (with the queue order kept) while Redis is away."""
        while not self._stopping:
            try:
                write = self._writes.get(timeout=0.5)
            except queue.Empty:
                continue
            while not self._stopping:
                try:
                    self.write(write)
                    break
                except REDIS_UNAVAILABLE_ERRORS as exc:
                    logger.warning(
                        "routing state of %s not written yet (%s); retrying", write.upstream.key, exc
                    )
                    self.sleep(1.0)
                except Exception:
                    logger.exception("writing routing state of %s failed; dropped", write.upstream.key)
                    break
            self._pending[write.upstream.key] -= 1
            if self._pending[write.upstream.key] <= 0:
                del self._pending[write.upstream.key]

    def write_health(self, upstream: Upstream, healthy: bool, at: float) -> None:
        """Write one health transition now (what the writer does for a queued one)."""
        self.write(_Write(upstream, "health", at, healthy=healthy))

    def write_ejection(
        self, upstream: Upstream, previous: EjectionState, options: OutlierOptions, peers: int
    ) -> None:
        """Write one local ejection now: applies the shared result, or undoes it when refused."""
        self.write(_Write(upstream, "eject", time.time(), previous=previous, options=options, peers=peers))

    def write(self, write: _Write) -> None:
        upstream = write.upstream
        args: list[Any] = [upstream.instance_id, write.kind, repr(write.at), self.me]
        args += [channels.UPSTREAM_ROUTING_CHANGES, upstream.service]
        if write.kind == "health":
            args.append("1" if write.healthy else "0")
        else:
            assert write.options is not None
            assert write.previous is not None
            limit = max_ejectable(write.peers, write.options.max_ejected_share)
            args += [write.options.base_ejection_s, write.options.max_ejection_s, limit]
        outcome, encoded = self._script(keys=[channels.upstream_routing_key(upstream.service)], args=args)
        if write.kind == "eject":
            if outcome == "refused":
                self.refused_ejections += 1
                logger.warning(
                    "ejection of %s undone: the service's share of ejections is taken", upstream.key
                )
                assert write.previous is not None
                write.previous.restore(upstream)
            else:  # the shared end time and count win over the provisional local ones
                _set_ejection(upstream, _decode_state(encoded), authoritative=True)

    # --- incoming ------------------------------------------------------------------------
    def on_subscribed(self, client: redis.Redis) -> None:
        self.resync(client)

    def tick(self) -> None:
        self.resync(self.client)

    def resync(self, client: redis.Redis) -> None:
        """Apply the stored state of every instance this process knows (start-up, missed messages)."""
        by_service: dict[str, list[Upstream]] = {}
        for upstream in self.instances():
            by_service.setdefault(upstream.service, []).append(upstream)
        for service, upstreams in by_service.items():
            stored: dict[str, str] = client.hgetall(channels.upstream_routing_key(service))  # type: ignore[assignment]
            for upstream in upstreams:
                raw = stored.get(upstream.instance_id)
                if raw:
                    try:
                        self.apply(upstream, _decode_state(raw))
                    except EventFormatError as exc:
                        logger.warning("ignoring stored routing state of %s: %s", upstream.key, exc)

    def validate(self, channel: str, payload: dict[str, Any]) -> None:
        if not all(isinstance(payload.get(k), str) for k in ("service", "instance")) or not isinstance(
            payload.get("state"), dict
        ):
            raise EventFormatError("$", "a routing change needs service, instance and state")

    def handle(self, channel: str, payload: dict[str, Any]) -> None:
        key = UpstreamKey(payload["service"], payload["instance"])
        for upstream in self.instances():
            if upstream.key == key:
                self.apply(upstream, payload["state"])

    def apply(self, upstream: Upstream, state: dict[str, Any]) -> None:
        """Make the local copy of one instance match a shared state."""
        if upstream.key not in self._pending:  # our own decision about it is still on its way
            healthy = state.get("healthy", True)
            at = state.get("health_at")
            if self.tracker.adopt(
                upstream, bool(healthy), float(at) if isinstance(at, int | float) else None
            ):
                self.on_change(upstream, "healthy" if healthy else "unhealthy", "remote")
        if _set_ejection(upstream, state, authoritative=False):
            self.on_change(upstream, "ejected", "remote")


def _decode_state(raw: str | bytes) -> dict[str, Any]:
    return decode(raw)


def _set_ejection(upstream: Upstream, state: dict[str, Any], *, authoritative: bool) -> bool:
    """Apply a shared ejection to the local copy; ``True`` if that newly ejected the instance.

    Not ``authoritative`` (a message or resync): only ever extends a local ejection.
    """
    until_epoch = state.get("ejected_until") or 0
    times = state.get("times_ejected") or 0
    if not isinstance(until_epoch, int | float) or not isinstance(times, int | float):
        raise EventFormatError("state", "ejected_until and times_ejected must be numbers")
    now = time.monotonic()
    was_ejected = upstream.ejected_until > now
    local_until = now + (until_epoch - time.time()) if until_epoch else 0.0
    if authoritative or local_until > upstream.ejected_until:
        upstream.ejected_until = local_until
        upstream.times_ejected = int(times)
    return not was_ejected and upstream.ejected_until > now
