"""Runtime overrides in a real Redis: generations, malformed records, limits the algorithm cannot run."""

from __future__ import annotations

import json
import time

import pytest
import redis

from ascep.common import channels
from ascep.gateway.ratelimit.policy import Policy
from ascep.gateway.ratelimit.spec import parse_limit
from ascep.gateway.ratelimit.store import OverrideStore
from ascep.gateway.ratelimit.sync import OverrideSync
from ascep.gateway.ratelimit.table import PolicyTable
from support.polling import wait_for


def table(algorithm: str = "gcra") -> PolicyTable:
    return PolicyTable(
        {name: Policy(name, parse_limit("10/s burst 20"), "default") for name in ("svc", "gateway")},
        algorithm,  # type: ignore[arg-type]
    )


def sync_for(redis_url: str, store: OverrideStore, policies: PolicyTable) -> OverrideSync:
    return OverrideSync(redis_url, policies, store, sleep=time.sleep, interval=0.5)


def test_a_put_bumps_the_generation_and_rings_the_bell(redis_client: redis.Redis) -> None:
    store = OverrideStore(redis_client)
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channels.RATE_LIMIT_CHANGES)
    first = store.put("svc", "5/m", 1_000)
    second = store.put("svc", "6/m", 500)  # an older clock cannot move the generation back
    assert second.generation == first.generation + 1
    assert str(store.read_all()["svc"].spec) == "6/m"
    message = wait_for(lambda: pubsub.get_message(timeout=0.1), timeout=5, message="the doorbell")
    assert json.loads(message["data"])["target"] == "svc"
    assert store.delete("svc")
    assert not store.delete("svc")
    assert store.read_all() == {}
    pubsub.close()


def test_malformed_records_are_skipped(redis_client: redis.Redis, caplog: pytest.LogCaptureFixture) -> None:
    store = OverrideStore(redis_client)
    store.put("svc", "5/m", 1_000)
    redis_client.hset(channels.RATE_LIMITS_KEY, "gateway", "not json")
    redis_client.hset(
        channels.RATE_LIMITS_KEY, "other", json.dumps({"limit": "10/0s", "updated_at": "x", "generation": 1})
    )
    found = store.read_all()
    assert set(found) == {"svc"}
    assert sum("malformed" in r.getMessage() for r in caplog.records) == 2


def test_sync_applies_known_targets_and_skips_what_the_algorithm_cannot_run(
    redis_url: str, redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    store = OverrideStore(redis_client)
    policies = table("sliding_window")
    sync = sync_for(redis_url, store, policies)
    store.put("svc", "20000/h", 1_000)  # over the sliding window's bound
    store.put("gateway", "100/60s", 1_000)
    store.put("unknown", "1/s", 1_000)  # not a target of this gateway: ignored
    sync.resync()
    sync.resync()
    assert policies.policies["gateway"].source == "override"
    assert str(policies.policies["gateway"].spec) == "100/60s"
    assert policies.policies["svc"].source == "default"
    assert sum("ignoring the rate-limit override of 'svc'" in r.getMessage() for r in caplog.records) == 1
    store.delete("gateway")
    sync.resync()
    assert policies.policies["gateway"].source == "default"
    assert policies.describe("gateway")["override"] is None
