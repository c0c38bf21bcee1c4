"""The gateway's periodic full read of discovery state (what repairs dropped pub/sub messages).

In-process against the real test Redis: an announcer writes, a listener (not subscribed, so every
change must come from the resync script) reads.
"""

from __future__ import annotations

import json
import time

from redis import Redis

from ascep.common import channels
from ascep.common.discovery import InstanceRecord, ServiceAnnouncer
from ascep.common.redis_client import connect
from ascep.gateway.routing import ServiceRegistry
from ascep.gateway.upstreams.discovery import DiscoveryListener
from ascep.gateway.upstreams.instances import Upstreams, build_upstreams
from support.polling import wait_for


def setup(redis_url: str) -> tuple[Upstreams, DiscoveryListener]:
    registry = ServiceRegistry()
    registry.register_service(name="svc", port=5099, endpoints=["/svc"], instances=[])
    upstreams = build_upstreams(registry, max_discovered=8, environ={})
    return upstreams, DiscoveryListener(redis_url, upstreams, sleep=time.sleep, resync_s=60)


def announcer(redis_url: str, instance_id: str, ttl_s: float) -> ServiceAnnouncer:
    record = InstanceRecord("svc", instance_id, f"http://10.9.0.{len(instance_id)}:80", version="v9")
    return ServiceAnnouncer(connect(redis_url), record, heartbeat_s=ttl_s / 10, ttl_s=ttl_s)


def test_resync_finds_instances_whose_messages_were_missed(redis_url: str) -> None:
    upstreams, listener = setup(redis_url)
    assert announcer(redis_url, "a:1:1", ttl_s=30).beat()
    listener.resync()
    (found,) = upstreams["svc"]
    assert (found.instance_id, found.version, found.source) == ("a:1:1", "v9", "discovered")


def test_resync_drops_and_deletes_what_expired_on_redis_clock(redis_url: str, redis_client: Redis) -> None:
    upstreams, listener = setup(redis_url)
    assert announcer(redis_url, "b:1:1", ttl_s=0.3).beat()
    assert announcer(redis_url, "long:1:1", ttl_s=30).beat()
    listener.resync()
    assert len(upstreams["svc"]) == 2

    def expired() -> bool:
        listener.resync()
        return [u.instance_id for u in upstreams["svc"]] == ["long:1:1"]

    wait_for(expired, timeout=5)
    assert redis_client.hkeys(channels.discovery_instances_key("svc")) == ["long:1:1"]
    assert redis_client.zrange(channels.discovery_expiry_key("svc"), 0, -1) == ["long:1:1"]


def test_the_local_sweep_expires_an_instance_that_stopped_beating(redis_url: str) -> None:
    upstreams, listener = setup(redis_url)
    record = InstanceRecord("svc", "c:1:1", "http://10.9.0.3:80")
    message = {"op": "up", "ttl_ms": 200, "instance": json.loads(record.to_json())}
    listener.receive({"channel": channels.DISCOVERY_CHANNEL, "data": json.dumps(message)})
    assert len(upstreams["svc"]) == 1
    wait_for(lambda: listener.tick() or len(upstreams["svc"]) == 0, timeout=5)


def test_malformed_records_and_messages_are_ignored(redis_url: str, redis_client: Redis) -> None:
    upstreams, listener = setup(redis_url)
    key, expiry = channels.discovery_instances_key("svc"), channels.discovery_expiry_key("svc")
    far = (time.time() + 3600) * 1000
    redis_client.hset(key, mapping={"x": "not json", "y": '{"service": "svc", "instance_id": "y"}'})
    redis_client.zadd(expiry, {"x": far, "y": far})
    listener.resync()
    assert len(upstreams["svc"]) == 0
    for bad in (
        {
            "op": "up",
            "ttl_ms": 1000,
            "instance": {"service": "svc", "instance_id": "z", "base_url": "ftp://h:1"},
        },
        {
            "op": "up",
            "ttl_ms": -1,
            "instance": {"service": "svc", "instance_id": "z", "base_url": "http://h:1"},
        },
        {"op": "explode"},
    ):
        listener.receive({"channel": channels.DISCOVERY_CHANNEL, "data": json.dumps(bad)})
    assert listener.malformed == 3
    assert len(upstreams["svc"]) == 0
