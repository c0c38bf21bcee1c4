"""The breakers' Lua scripts against a real Redis: atomic probe budget, publication, recovery."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from ascep.common import channels
from ascep.common.redis_client import connect
from ascep.gateway.upstreams.breaker import BreakerOptions, Transition
from ascep.gateway.upstreams.breaker_store import BreakerStore
from ascep.gateway.upstreams.model import UpstreamKey
from support.polling import wait_for

KEY = UpstreamKey("price_feed", "127.0.0.1:5002")
OPTIONS = BreakerOptions(open_s=5.0, half_open_probes=3, probe_timeout_s=15.0)
T0 = 1_700_000_000.0
TRIPPED = Transition("closed", "open", "10 of 10 calls failed", 1.0, 10)


@pytest.fixture
def store(redis_url: str) -> Iterator[BreakerStore]:
    client = connect(redis_url, retries=0)
    yield BreakerStore(client)
    client.close()


def test_opening_publishes_circuit_state_with_the_deciding_numbers(
    store: BreakerStore, redis_client: redis.Redis
) -> None:
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channels.CIRCUIT_STATE)
    reply = store.open(KEY, TRIPPED, OPTIONS, T0)
    assert reply.previous == "closed"
    assert reply.record.state == "open"
    assert reply.record.open_until == pytest.approx(T0 + 5)
    assert reply.record.generation >= T0 * 1000
    message = wait_for(lambda: pubsub.get_message(timeout=0.1), timeout=5, message="circuit_state published")
    event = json.loads(message["data"])
    assert event == {
        "service": "price_feed",
        "instance": "127.0.0.1:5002",
        "state": "open",
        "previous": "closed",
        "at": "2023-11-14T22:13:20.000Z",
        "ts": T0 * 1000,
        "reason": "10 of 10 calls failed",
        "failure_rate": 1,
        "volume": 10,
        "generation": reply.record.generation,
        "open_until": (T0 + 5) * 1000,
    }
    again = store.open(KEY, TRIPPED, OPTIONS, T0 + 1)  # a second process tripping: no change
    assert again.previous is None
    assert again.record == reply.record
    pubsub.close()


def test_a_flood_of_concurrent_requests_gets_exactly_the_probe_budget(store: BreakerStore) -> None:
    store.open(KEY, TRIPPED, OPTIONS, T0)
    with ThreadPoolExecutor(max_workers=40) as pool:
        replies = list(pool.map(lambda _: store.acquire_probe(KEY, OPTIONS, T0 + 5), range(200)))
    assert sum(r.admitted for r in replies) == 3
    assert sum(r.previous == "open" for r in replies) == 1  # one run made it half-open
    assert {r.record.state for r in replies} == {"half_open"}


def test_before_the_open_period_ends_nobody_gets_a_probe(store: BreakerStore) -> None:
    store.open(KEY, TRIPPED, OPTIONS, T0)
    reply = store.acquire_probe(KEY, OPTIONS, T0 + 4.9)
    assert not reply.admitted
    assert reply.record.state == "open"


def test_all_probes_succeeding_close_it(store: BreakerStore) -> None:
    store.open(KEY, TRIPPED, OPTIONS, T0)
    probes = [store.acquire_probe(KEY, OPTIONS, T0 + 5) for _ in range(3)]
    generation = probes[0].record.generation
    replies = [store.report_probe(KEY, generation, "success", OPTIONS, T0 + 6) for _ in probes]
    assert [r.record.state for r in replies] == ["half_open", "half_open", "closed"]
    assert replies[-1].previous == "half_open"
    assert not store.acquire_probe(KEY, OPTIONS, T0 + 7).admitted  # closed: no probes needed


def test_a_probe_failure_reopens_and_late_reports_are_ignored(store: BreakerStore) -> None:
    store.open(KEY, TRIPPED, OPTIONS, T0)
    probe = store.acquire_probe(KEY, OPTIONS, T0 + 5)
    generation = probe.record.generation
    reopened = store.report_probe(KEY, generation, "failure", OPTIONS, T0 + 6)
    assert reopened.record.state == "open"
    assert reopened.record.open_until == pytest.approx(T0 + 11)
    late = store.report_probe(KEY, generation, "success", OPTIONS, T0 + 7)
    assert late.previous is None
    assert late.record == reopened.record


def test_probes_lost_with_a_dead_gateway_are_handed_out_again_after_the_timeout(store: BreakerStore) -> None:
    store.open(KEY, TRIPPED, OPTIONS, T0)
    lost = [store.acquire_probe(KEY, OPTIONS, T0 + 5) for _ in range(3)]
    assert all(r.admitted for r in lost)
    assert not store.acquire_probe(KEY, OPTIONS, T0 + 19).admitted
    fresh = store.acquire_probe(KEY, OPTIONS, T0 + 20.1)  # 15 s after the round began
    assert fresh.admitted
    assert fresh.record.generation > lost[0].record.generation
    stale = store.report_probe(KEY, lost[0].record.generation, "failure", OPTIONS, T0 + 21)
    assert stale.record.state == "half_open"


def test_an_ignored_probe_frees_its_slot(store: BreakerStore) -> None:
    store.open(KEY, TRIPPED, OPTIONS, T0)
    probes = [store.acquire_probe(KEY, OPTIONS, T0 + 5) for _ in range(3)]
    assert not store.acquire_probe(KEY, OPTIONS, T0 + 5).admitted
    store.report_probe(KEY, probes[0].record.generation, "ignored", OPTIONS, T0 + 5)
    assert store.acquire_probe(KEY, OPTIONS, T0 + 5).admitted


def test_generations_keep_increasing_after_redis_lost_the_hash(
    store: BreakerStore, redis_client: redis.Redis
) -> None:
    first = store.open(KEY, TRIPPED, OPTIONS, T0)
    redis_client.delete(channels.BREAKERS_KEY)
    second = store.open(KEY, TRIPPED, OPTIONS, T0 + 60)
    assert second.record.generation > first.record.generation
    assert store.read_all() == {KEY: second.record}
    assert store.read(UpstreamKey("price_feed", "other:1")) is None
