"""The instances of each service: static ones from the registry, discovered ones from Redis.

:class:`UpstreamSet` is what ``select_upstream`` asks for an instance. Its member list is an
immutable tuple replaced whole on every change (discovery runs on another green thread), so a
request reads it without a lock and without I/O.

Which instances a request may go to (:meth:`UpstreamSet.candidates`), in order:

1. the *routable* ones: healthy, not ejected, breaker not open (``half_open`` counts: the breaker
   step decides which calls it admits as probes);
2. if none, those only an open breaker keeps out: the breaker step answers 503 ``CIRCUIT_OPEN``
   naming the instance (a fast, specific answer rather than a generic one);
3. if none, the policy's ``when_all_unhealthy``: ``fail`` — 503 ``NO_HEALTHY_UPSTREAM`` at once;
   ``panic`` — every instance, healthy or not (Envoy's panic mode: better a likely failure than a
   certain one when the health view itself may be wrong).

A discovered instance whose address is one of the static ones (``localhost`` and ``127.0.0.1``
are the same host here) is that static instance announcing itself: it updates its version,
metadata and heartbeat but stays static — the registry put it there, so it never expires.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from ascep.common.discovery import InstanceRecord
from ascep.common.errors import NoHealthyUpstream
from ascep.common.timeutil import iso_utc
from ascep.gateway.routing import ServiceDefinition
from ascep.gateway.upstreams.balancers import Balancer, make_balancer
from ascep.gateway.upstreams.model import Upstream
from ascep.gateway.upstreams.policy import DEFAULT_POLICY, UpstreamPolicy

logger = logging.getLogger(__name__)

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def address_key(base_url: str) -> str:
    """``scheme://host:port`` with loopback names folded together, for "same instance?" checks."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if host in _LOOPBACK:
        host = "loopback"
    return f"{parts.scheme}://{host}:{parts.port}"


class UpstreamSet:
    """One service's instances, the balancer that picks among them and their in-flight counts."""

    def __init__(
        self,
        service: str,
        static: Iterable[Upstream],
        *,
        policy: UpstreamPolicy = DEFAULT_POLICY,
        balancer: Balancer | None = None,
        max_discovered: int = 64,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.policy = policy
        self.balancer = balancer or make_balancer(policy.load_balancing)
        self.max_discovered = max_discovered
        self.clock = clock
        self.static: tuple[Upstream, ...] = tuple(static)
        self._static_by_address = {address_key(u.base_url): u for u in self.static}
        self._discovered: dict[str, Upstream] = {}
        self._expires: dict[str, float] = {}  # instance id -> monotonic deadline
        self.members: tuple[Upstream, ...] = self.static
        self.refused = 0  # announcements dropped because max_discovered was reached
        self._count_lock = threading.Lock()

    # --- the request path ------------------------------------------------------------------
    def routable(self, now: float | None = None) -> list[Upstream]:
        """Healthy, not ejected, breaker not open (``half_open`` included)."""
        now = self.clock() if now is None else now
        return [u for u in self.members if callable_now(u, now)]

    def candidates(self, now: float | None = None) -> list[Upstream]:
        """What a request may go to (see the module docstring); empty: refuse it."""
        now = self.clock() if now is None else now
        members = self.members
        routable = [u for u in members if callable_now(u, now)]
        if routable:
            return routable
        behind_open_breakers = [u for u in members if u.healthy and u.ejected_until <= now]
        if behind_open_breakers:
            return behind_open_breakers
        if self.policy.when_all_unhealthy == "panic":
            return list(members)
        return []

    def choose(self, exclude: Collection[str] = (), versions: Sequence[str] = ()) -> Upstream:
        """The instance for one call; raises 503 ``NO_HEALTHY_UPSTREAM`` when there is none.

        ``exclude``: instance ids a retry should avoid (those already tried); ignored when they
        are all the candidates there are (a retry to the same instance beats none). With
        ``versions`` (a traffic split's arm, then its stable version), the routable instances of
        the first version that has any; if none has, the usual candidates.
        """
        if versions:
            now = self.clock()
            members = self.members
            for version in versions:
                pool = [u for u in members if u.version == version and callable_now(u, now)]
                if pool:
                    fresh = [u for u in pool if u.instance_id not in exclude]
                    return self.balancer.pick(fresh or pool)
        candidates = self.candidates()
        if not candidates:
            raise NoHealthyUpstream(
                f"service {self.service!r} is unavailable: no instance can take calls right now",
                {"service": self.service, "instances": len(self.members)},
            )
        if exclude:
            fresh = [u for u in candidates if u.instance_id not in exclude]
            candidates = fresh or candidates
        return self.balancer.pick(candidates)

    def begin(self, upstream: Upstream) -> None:
        """Count a call in progress on ``upstream`` (what ``least_request`` compares)."""
        with self._count_lock:
            upstream.in_flight += 1

    def end(self, upstream: Upstream) -> None:
        with self._count_lock:
            upstream.in_flight = max(0, upstream.in_flight - 1)

    # --- discovery -------------------------------------------------------------------------
    def announce(self, record: InstanceRecord, ttl_s: float) -> Upstream | None:
        """Apply one heartbeat; the instance it concerns, or ``None`` if it was refused."""
        now = self.clock()
        static = self._static_by_address.get(address_key(record.base_url))
        if static is not None:
            _update(static, record)
            return static
        existing = self._discovered.get(record.instance_id)
        if existing is not None and existing.base_url == record.base_url:
            _update(existing, record)
            self._expires[record.instance_id] = now + ttl_s
            return existing
        if existing is None and len(self._discovered) >= self.max_discovered:
            self.refused += 1
            if self.refused == 1 or self.refused % 100 == 0:
                logger.warning(
                    "service %r already has %d discovered instances (DISCOVERY_MAX_INSTANCES): "
                    "ignoring %s (%d refused so far)",
                    self.service,
                    self.max_discovered,
                    record.instance_id,
                    self.refused,
                )
            return None
        upstream = Upstream(
            service=self.service,
            instance_id=record.instance_id,
            base_url=record.base_url,
            source="discovered",
        )
        _update(upstream, record)
        self._discovered[record.instance_id] = upstream
        self._expires[record.instance_id] = now + ttl_s
        self._rebuild()
        logger.info("service %r: instance %s at %s joined", self.service, record.instance_id, record.base_url)
        return upstream

    def leave(self, instance_id: str, reason: str) -> Upstream | None:
        """Remove a discovered instance (deregistered or expired); the removed one, if any."""
        upstream = self._discovered.pop(instance_id, None)
        self._expires.pop(instance_id, None)
        if upstream is not None:
            self._rebuild()
            logger.info("service %r: instance %s left (%s)", self.service, instance_id, reason)
        return upstream

    def expire(self, now: float | None = None) -> list[Upstream]:
        """Drop discovered instances whose TTL passed without a heartbeat."""
        now = self.clock() if now is None else now
        gone = [iid for iid, deadline in self._expires.items() if deadline <= now]
        return [u for u in (self.leave(iid, "heartbeat expired") for iid in gone) if u is not None]

    def resync(self, live: Mapping[str, tuple[InstanceRecord, float]]) -> list[Upstream]:
        """Make the discovered instances exactly ``live`` (id -> (record, remaining TTL s))."""
        removed = [
            u
            for u in (self.leave(iid, "not in Redis") for iid in list(self._discovered) if iid not in live)
            if u
        ]
        for record, ttl_s in live.values():
            self.announce(record, ttl_s)
        return removed

    def _rebuild(self) -> None:
        self.members = self.static + tuple(sorted(self._discovered.values(), key=lambda u: u.instance_id))

    # --- reporting -------------------------------------------------------------------------
    def describe(self, now: float | None = None) -> list[dict[str, Any]]:
        """Every instance as ``/api/services`` shows it."""
        now = self.clock() if now is None else now
        return [describe_upstream(u, now) for u in self.members]

    def __iter__(self) -> Iterator[Upstream]:
        return iter(self.members)

    def __len__(self) -> int:
        return len(self.members)


def _update(upstream: Upstream, record: InstanceRecord) -> None:
    upstream.version = record.version
    upstream.metadata = dict(record.metadata)
    upstream.last_heartbeat = record.heartbeat_at or time.time()
    if upstream.source == "discovered":
        upstream.weight = record.weight


def describe_upstream(upstream: Upstream, now: float) -> dict[str, Any]:
    ejected_for = max(0.0, upstream.ejected_until - now)
    heartbeat = upstream.last_heartbeat
    return {
        "instance_id": upstream.instance_id,
        "url": upstream.base_url,
        "source": upstream.source,
        "healthy": upstream.healthy,
        "ejected": ejected_for > 0,
        "ejected_for_seconds": round(ejected_for, 3),
        "times_ejected": upstream.times_ejected,
        "breaker_state": upstream.breaker_state,
        "in_flight": upstream.in_flight,
        "weight": upstream.weight,
        "version": upstream.version or None,
        "metadata": upstream.metadata,
        "last_heartbeat": iso_utc(heartbeat * 1000) if heartbeat else None,
    }


def callable_now(upstream: Upstream, now: float) -> bool:
    """Healthy, not ejected, and its breaker closed, half-open, or open but due for probes.

    An open breaker's instance comes back into selection when its open time is over: otherwise,
    with other instances routable, no call would ever reach it to probe it.
    """
    return (
        upstream.healthy
        and upstream.ejected_until <= now
        and (upstream.breaker_state != "open" or upstream.breaker_retry_at <= now)
    )


class Upstreams:
    """The :class:`UpstreamSet` of every registered service, by name.

    ``on_address_gone`` is called with a ``base_url`` no instance of any service uses any more
    (the forwarder closes that address's keep-alive pool).
    """

    def __init__(
        self, sets: Iterable[UpstreamSet], on_address_gone: Callable[[str], None] | None = None
    ) -> None:
        self._sets = {s.service: s for s in sets}
        self.on_address_gone = on_address_gone

    def __getitem__(self, service: str) -> UpstreamSet:
        return self._sets[service]

    def get(self, service: str) -> UpstreamSet | None:
        return self._sets.get(service)

    def __iter__(self) -> Iterator[UpstreamSet]:
        return iter(self._sets.values())

    def services(self) -> list[str]:
        return list(self._sets)

    def find(self, service: str, instance_id: str) -> Upstream | None:
        """The instance ``instance_id`` of ``service``, if it is (still) a member."""
        members = self._sets[service].members if service in self._sets else ()
        return next((u for u in members if u.instance_id == instance_id), None)

    def released(self, removed: Iterable[Upstream]) -> None:
        """Tell ``on_address_gone`` about addresses the ``removed`` instances leave unused."""
        if self.on_address_gone is None:
            return
        in_use = {u.base_url for s in self._sets.values() for u in s.members}
        for url in {u.base_url for u in removed} - in_use:
            self.on_address_gone(url)


def build_upstreams(
    definitions: Iterable[ServiceDefinition],
    *,
    max_discovered: int,
    environ: Mapping[str, str] | None = None,
) -> Upstreams:
    """One :class:`UpstreamSet` per registered service, holding its static instances."""
    sets = []
    for definition in definitions:
        static = [
            Upstream(
                service=definition.name,
                instance_id=instance.address,
                base_url=instance.base_url,
                weight=instance.weight,
                version=instance.version,
            )
            for instance in definition.static_instances(environ)
        ]
        sets.append(
            UpstreamSet(definition.name, static, policy=definition.policy, max_discovered=max_discovered)
        )
    return Upstreams(sets)
