"""Service discovery, the gateway's side: keep each service's discovered instances current.

Changes arrive on ``DISCOVERY_CHANNEL`` (a heartbeat: ``up``; a clean shutdown: ``down``) and are
applied at once to the local :class:`~ascep.gateway.upstreams.instances.UpstreamSet`. Pub/sub
can lose messages (a reconnect, a slow consumer dropped by Redis), so after every (re)subscribe
and every ``DISCOVERY_RESYNC_S`` the listener re-reads the registered services' records with one
script per service — reading by key, never ``KEYS``/``SCAN`` — which also deletes expired ones.
Between messages, a local sweep every tick drops instances whose TTL passed (an instance killed
with SIGKILL sends nothing). None of this is on the request path.

An announcement for a service that is not in the registry is refused (logged once per name):
registration may add instances to a registered service, never create a route.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import redis

from ascep.common import channels
from ascep.common.discovery import InstanceRecord
from ascep.common.events import EventFormatError
from ascep.common.redis_client import connect
from ascep.common.subscriber import BusSubscriber
from ascep.gateway.upstreams.instances import Upstreams
from ascep.gateway.upstreams.model import Upstream

logger = logging.getLogger(__name__)

#: Removes expired instances, returns ``[record, remaining_ms, ...]`` of the live ones. Redis's
#: clock decides (``TIME``), like the heartbeat script that scored them.
_RESYNC = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, id in ipairs(expired) do
  redis.call('HDEL', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
end
local live = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now, '+inf', 'WITHSCORES')
local out = {}
for i = 1, #live, 2 do
  local record = redis.call('HGET', KEYS[1], live[i])
  if record then
    table.insert(out, record)
    table.insert(out, tostring(tonumber(live[i + 1]) - now))
  end
end
return out
"""

_MAX_UNKNOWN_NAMES_LOGGED = 100


class DiscoveryListener(BusSubscriber):
    """Applies announcements to the gateway's :class:`Upstreams`; run on a background thread."""

    label = "discovery listener"

    def __init__(
        self,
        redis_url: str,
        upstreams: Upstreams,
        *,
        sleep: Callable[[float], Any],
        resync_s: float,
        tick_s: float = 0.1,
        retain_pools: Callable[[set[str]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(redis_url, [channels.DISCOVERY_CHANNEL], sleep=sleep, tick_interval=tick_s)
        self.upstreams = upstreams
        self.resync_s = resync_s
        self.retain_pools = retain_pools
        self.clock = clock
        self.resyncs = 0
        self.refused_names: dict[str, int] = {}
        # Commands go over their own connection: the pub/sub one has no socket timeout.
        self._client = connect(redis_url, socket_timeout=2.0, connect_timeout=1.0, retries=0)
        self._script = self._client.register_script(_RESYNC)
        self._next_resync = 0.0

    # --- BusSubscriber hooks ---------------------------------------------------------------
    def on_subscribed(self, client: redis.Redis) -> None:
        self.resync()

    def validate(self, channel: str, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        if op == "up":
            try:
                InstanceRecord.from_payload(payload.get("instance"))
            except ValueError as exc:
                raise EventFormatError("instance", str(exc)) from exc
            ttl = payload.get("ttl_ms")
            if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 < ttl <= 3_600_000:
                raise EventFormatError("ttl_ms", "must be a positive integer (ms)")
        elif op == "down":
            if not isinstance(payload.get("service"), str) or not isinstance(payload.get("instance_id"), str):
                raise EventFormatError("instance_id", "a 'down' message needs service and instance_id")
        else:
            raise EventFormatError("op", f"unknown op {op!r}")

    def handle(self, channel: str, payload: dict[str, Any]) -> None:
        if payload["op"] == "up":
            record = InstanceRecord.from_payload(payload["instance"])
            instances = self._known(record.service, record.instance_id)
            if instances is not None:
                instances.announce(record, payload["ttl_ms"] / 1000)
            return
        instances = self._known(payload["service"], payload["instance_id"])
        if instances is not None:
            self._released(instances.leave(payload["instance_id"], "deregistered"))

    def tick(self) -> None:
        now = self.clock()
        removed: list[Upstream] = []
        for instances in self.upstreams:
            removed.extend(instances.expire(now))
        self._released(*removed)
        if now >= self._next_resync:
            self.resync()

    # --- the periodic full read ------------------------------------------------------------
    def resync(self) -> None:
        """Make every service's discovered instances exactly what Redis holds (one round trip)."""
        services = self.upstreams.services()
        pipe = self._client.pipeline(transaction=False)
        for service in services:
            self._script(
                keys=[channels.discovery_instances_key(service), channels.discovery_expiry_key(service)],
                client=pipe,
            )
        results = pipe.execute()
        removed: list[Upstream] = []
        for service, flat in zip(services, results, strict=True):
            live: dict[str, tuple[InstanceRecord, float]] = {}
            for raw, remaining_ms in zip(flat[::2], flat[1::2], strict=True):
                record = self._parse(raw, service)
                if record is not None:
                    live[record.instance_id] = (record, max(0.0, float(remaining_ms)) / 1000)
            removed.extend(self.upstreams[service].resync(live))
        self._released(*removed)
        if self.retain_pools is not None:
            self.retain_pools({u.base_url for s in self.upstreams for u in s.members})
        self.resyncs += 1
        self._next_resync = self.clock() + self.resync_s

    # --- helpers ---------------------------------------------------------------------------
    def _known(self, service: str, instance_id: str) -> Any:
        instances = self.upstreams.get(service)
        if instances is None:
            count = self.refused_names.get(service, 0) + 1
            if count == 1 and len(self.refused_names) < _MAX_UNKNOWN_NAMES_LOGGED:
                logger.warning(
                    "refusing instance %s of %r: no service of that name is registered "
                    "(registration never creates routes)",
                    instance_id,
                    service,
                )
            if service in self.refused_names or len(self.refused_names) < _MAX_UNKNOWN_NAMES_LOGGED:
                self.refused_names[service] = count
        return instances

    def _parse(self, raw: str, service: str) -> InstanceRecord | None:
        try:
            record = InstanceRecord.from_payload(json.loads(raw))
        except ValueError as exc:
            logger.warning("ignoring a malformed instance record of %r in Redis: %s", service, exc)
            return None
        if record.service != service:
            logger.warning("ignoring a record of %r stored under %r", record.service, service)
            return None
        return record

    def _released(self, *removed: Upstream | None) -> None:
        gone = [u for u in removed if u is not None]
        if gone:
            self.upstreams.released(gone)

    def status(self) -> dict[str, Any]:
        """For ``/status``: the subscription, resyncs and refused service names."""
        return {
            **self.connection_status(),
            "resyncs": self.resyncs,
            "refused_services": dict(self.refused_names),
        }
