"""Service discovery, the announcing side: every service process keeps itself listed in Redis.

A running instance writes its record (service name, instance id, address, version, weight,
metadata) every ``DISCOVERY_HEARTBEAT_S`` and is considered gone ``DISCOVERY_TTL`` after the last
one; a clean shutdown deregisters at once. Per service, Redis holds

* a hash ``discovery:<service>:instances`` (instance id -> JSON record) and
* a sorted set ``discovery:<service>:expiry`` (instance id -> expiry, epoch ms),

and every change is published on ``DISCOVERY_CHANNEL``. Gateways apply the messages to their
local routing tables and re-read both keys periodically (pub/sub may drop messages), so they
never scan the keyspace and the proxy's hot path never touches Redis.

Expiry is computed from Redis's own clock (``TIME`` inside the scripts), never from the
announcer's or a gateway's, so clock skew between machines cannot keep a dead instance alive or
expire a live one. Messages carry a relative ``ttl_ms`` for the same reason.

Announcing never holds a service up: heartbeats run on a background thread (green under
eventlet) and retry with backoff while Redis is unreachable.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import redis

from ascep import __version__
from ascep.common import channels
from ascep.common.backoff import Backoff
from ascep.common.config import CommonSettings
from ascep.common.errors import ConfigError
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS, connect

logger = logging.getLogger(__name__)

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_INSTANCE_ID = re.compile(r"^[A-Za-z0-9_.:\[\]@-]{1,200}$")
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})
MAX_METADATA_BYTES = 2048
MAX_WEIGHT = 1000

#: Keys of a service nobody announces any more disappear after this many TTLs.
_KEY_LIFETIME_TTLS = 20

_HEARTBEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl * tonumber(ARGV[4]))
redis.call('PEXPIRE', KEYS[2], ttl * tonumber(ARGV[4]))
redis.call('PUBLISH', ARGV[5], ARGV[6])
return now
"""


@dataclass(frozen=True, slots=True)
class InstanceRecord:
    """What one instance announces about itself (the JSON stored and published)."""

    service: str
    instance_id: str
    base_url: str  # scheme://host:port
    version: str = ""
    weight: int = 1
    metadata: dict[str, Any] = field(default_factory=dict)
    heartbeat_at: float = 0.0  # epoch seconds on the announcer's clock (display only)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_payload(cls, payload: object) -> InstanceRecord:
        """Validate a decoded record; ``ValueError`` says what is wrong (never trust the bus)."""
        if not isinstance(payload, dict):
            raise ValueError("an instance record must be a JSON object")
        service, instance_id = payload.get("service"), payload.get("instance_id")
        if not isinstance(service, str) or not _NAME.match(service):
            raise ValueError(f"bad service name {service!r}")
        if not isinstance(instance_id, str) or not _INSTANCE_ID.match(instance_id):
            raise ValueError(f"bad instance id {instance_id!r}")
        base_url = _check_base_url(payload.get("base_url"))
        version = payload.get("version", "")
        weight = payload.get("weight", 1)
        metadata = payload.get("metadata", {})
        heartbeat_at = payload.get("heartbeat_at", 0.0)
        if not isinstance(version, str) or len(version) > 64:
            raise ValueError("version must be a string of at most 64 characters")
        if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= MAX_WEIGHT:
            raise ValueError(f"weight must be an integer from 1 to {MAX_WEIGHT}")
        if not isinstance(metadata, dict) or len(json.dumps(metadata)) > MAX_METADATA_BYTES:
            raise ValueError(f"metadata must be an object of at most {MAX_METADATA_BYTES} bytes of JSON")
        if isinstance(heartbeat_at, bool) or not isinstance(heartbeat_at, int | float):
            raise ValueError("heartbeat_at must be a number")
        return cls(service, instance_id, base_url, version, weight, metadata, float(heartbeat_at))


def _check_base_url(value: object) -> str:
    if not isinstance(value, str) or len(value) > 300:
        raise ValueError("base_url must be a string")
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in {value!r}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname or port is None:
        raise ValueError(f"base_url {value!r} must be http(s)://host:port")
    if parts.path or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError(f"base_url {value!r} must have no path, query or credentials")
    return value


def advertised_host(host: str, advertise: str = "") -> str:
    """The host gateways call: ``advertise`` if set, else ``host`` unless it is a wildcard."""
    if advertise.strip():
        return advertise.strip()
    if host.strip() in _WILDCARD_HOSTS:
        return socket.gethostname()
    return host.strip()


class ServiceAnnouncer:
    """Keeps one instance registered while it runs; :meth:`stop` deregisters it at once."""

    def __init__(
        self,
        client: redis.Redis,
        record: InstanceRecord,
        *,
        heartbeat_s: float,
        ttl_s: float,
        ready: Callable[[], bool] | None = None,
    ) -> None:
        """``ready``: polled before the first heartbeat, so no gateway routes to a port that does
        not accept connections yet."""
        if ttl_s <= heartbeat_s:
            raise ConfigError(
                "DISCOVERY_TTL", f"{ttl_s}s must be longer than DISCOVERY_HEARTBEAT_S ({heartbeat_s}s)"
            )
        self.client = client
        self.record = record
        self.heartbeat_s = heartbeat_s
        self.ttl_ms = int(ttl_s * 1000)
        self.beats = 0
        self.failures = 0
        self._script = client.register_script(_HEARTBEAT)
        self._lock = threading.Lock()  # a beat never lands after the deregistration
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready = ready

    def beat(self) -> bool:
        """Write one heartbeat; ``False`` once stopped. Redis errors propagate."""
        with self._lock:
            if self._stopped.is_set():
                return False
            record = InstanceRecord(**{**asdict(self.record), "heartbeat_at": round(time.time(), 3)})
            message = json.dumps({"op": "up", "ttl_ms": self.ttl_ms, "instance": asdict(record)})
            self._script(
                keys=[
                    channels.discovery_instances_key(record.service),
                    channels.discovery_expiry_key(record.service),
                ],
                args=[
                    record.instance_id,
                    record.to_json(),
                    self.ttl_ms,
                    _KEY_LIFETIME_TTLS,
                    channels.DISCOVERY_CHANNEL,
                    message,
                ],
            )
            self.beats += 1
            return True

    def start(self) -> ServiceAnnouncer:
        self._thread = threading.Thread(target=self._run, name="discovery-heartbeat", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while self._ready is not None and not self._ready() and not self._stopped.is_set():
            self._stopped.wait(0.02)
        # Never wait longer than a heartbeat: after an outage, instances must be back in Redis
        # before gateways' first resync drops them.
        backoff = Backoff(initial=min(0.2, self.heartbeat_s), cap=self.heartbeat_s)
        while not self._stopped.is_set():
            delay = self.heartbeat_s
            try:
                if self.beat() and self.beats == 1:
                    logger.info(
                        "announced %s instance %s at %s",
                        self.record.service,
                        self.record.instance_id,
                        self.record.base_url,
                    )
                backoff.reset()
            except REDIS_UNAVAILABLE_ERRORS as exc:
                self.failures += 1
                delay = min(delay, backoff.next_delay())
                logger.warning("discovery heartbeat failed (%s); retrying in %.1fs", exc, delay)
            except redis.RedisError:
                self.failures += 1
                logger.exception("discovery heartbeat rejected by Redis")
            self._stopped.wait(delay)

    def stop(self) -> None:
        """Stop beating and remove the record now, so gateways stop routing here at once."""
        with self._lock:
            already = self._stopped.is_set()
            self._stopped.set()
        if already:
            return
        record = self.record
        message = json.dumps({"op": "down", "service": record.service, "instance_id": record.instance_id})
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.hdel(channels.discovery_instances_key(record.service), record.instance_id)
            pipe.zrem(channels.discovery_expiry_key(record.service), record.instance_id)
            pipe.publish(channels.DISCOVERY_CHANNEL, message)
            pipe.execute()
            logger.info("deregistered %s instance %s", record.service, record.instance_id)
        except (redis.RedisError, OSError) as exc:
            logger.warning("could not deregister (%s); gateways drop this instance after its TTL", exc)


def announce_instance(service: str, settings: CommonSettings) -> ServiceAnnouncer:
    """Start announcing this process as an instance of ``service`` (the common entry point calls this)."""
    host = advertised_host(settings.host, settings.discovery_advertise_host)
    port = settings.port
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    record = InstanceRecord(
        service=service,
        instance_id=f"{socket.gethostname()}:{port}:{os.getpid()}",
        base_url=f"http://{shown}:{port}",
        version=__version__,
        weight=settings.discovery_weight,
        metadata={"pid": os.getpid(), "hostname": socket.gethostname(), "started_at": round(time.time(), 3)},
    )
    client = connect(settings.redis_url, socket_timeout=1.0, connect_timeout=1.0, retries=0)
    local = "127.0.0.1" if settings.host.strip() in _WILDCARD_HOSTS else settings.host.strip("[]")
    return ServiceAnnouncer(
        client,
        record,
        heartbeat_s=settings.discovery_heartbeat_s,
        ttl_s=settings.discovery_ttl,
        ready=lambda: _accepts(local, port),
    ).start()


def _accepts(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on ``host:port`` (the service's own server)."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False
