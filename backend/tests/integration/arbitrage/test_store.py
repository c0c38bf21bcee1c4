"""SignalStore on a real Redis: atomic write + publish, ids, bounded history, time-range reads."""

from __future__ import annotations

import json

import pytest
import redis

from ascep.arbitrage.store import SignalStore
from ascep.common import channels

pytestmark = pytest.mark.integration

T0 = 1_800_000_000_000


def signal(store: SignalStore, *, first: int, last: int, status: str = "open", key: str = "k") -> dict:
    return {
        "id": store.next_id(),
        "key": key,
        "type": "triangular",
        "status": status,
        "severity": "low",
        "spread_percentage": 0.1,
        "peak_spread_percentage": 0.1,
        "first_seen_ts": first,
        "last_seen_ts": last,
    }


def test_write_stores_indexes_counts_and_publishes(redis_client: redis.Redis) -> None:
    store = SignalStore(redis_client, history_max=10, ttl_s=60)
    pubsub = redis_client.pubsub()
    pubsub.subscribe(channels.ARBITRAGE_SIGNALS)
    assert pubsub.get_message(timeout=2)["type"] == "subscribe"  # subscribed before the write
    doc = signal(store, first=T0, last=T0)
    store.write("open", doc, T0)
    assert store.get(doc["id"]) == doc
    assert store.open_count() == 1
    assert 0 < redis_client.ttl(channels.arbitrage_signal_key(doc["id"])) <= 60
    message = pubsub.get_message(timeout=2)
    assert json.loads(message["data"]) == doc

    store.write("touch", dict(doc, last_seen_ts=T0 + 5), T0 + 5)  # stored, not published
    assert pubsub.get_message(timeout=0.2) is None
    store.write("close", dict(doc, status="closed", last_seen_ts=T0 + 6), T0 + 6)
    assert store.open_count() == 0
    assert store.counters() == {"opened": 1, "closed": 1, "type:triangular": 1, "severity:low": 1}
    pubsub.close()


def test_ids_come_from_redis(redis_client: redis.Redis) -> None:
    a, b = SignalStore(redis_client), SignalStore(redis_client)  # two "instances"
    ids = [a.next_id(), b.next_id(), a.next_id()]
    assert ids == sorted(set(ids))


def test_history_is_capped_and_trimmed_by_age(redis_client: redis.Redis) -> None:
    store = SignalStore(redis_client, history_max=3, ttl_s=100)
    docs = [signal(store, first=T0 + i, last=T0 + i, status="closed", key=f"k{i}") for i in range(5)]
    for doc in docs:
        store.write("close", doc, T0)
    assert [s["id"] for s in store.recent()] == [d["id"] for d in reversed(docs[2:])]
    assert store.get(docs[0]["id"]) is None  # the document went with its index entry
    late = signal(store, first=T0 + 200_000, last=T0 + 200_000, key="late")
    store.write("open", late, T0 + 200_000)  # everything older than the TTL is trimmed
    assert [s["id"] for s in store.recent()] == [late["id"]]


def test_between_and_query(redis_client: redis.Redis) -> None:
    store = SignalStore(redis_client)
    early = signal(store, first=T0, last=T0 + 10, status="closed", key="a")
    middle = signal(store, first=T0 + 20, last=T0 + 40, key="b")
    late = signal(store, first=T0 + 100, last=T0 + 120, key="c")
    for doc in (early, middle, late):
        store.write("open" if doc["status"] == "open" else "close", doc, T0)
    assert [s["id"] for s in store.between(T0 + 5, T0 + 30)] == [early["id"], middle["id"]]
    assert [s["id"] for s in store.between(T0 + 50, T0 + 200)] == [late["id"]]
    signals, total = store.query(limit=1, status="open")
    assert ([s["id"] for s in signals], total) == ([late["id"]], 2)
    assert store.query(since_ms=T0 + 100)[1] == 1
    assert [s["id"] for s in store.open_signals()] in ([middle["id"], late["id"]], [late["id"], middle["id"]])


def test_id_counter_can_be_raised_but_never_lowered(redis_client: redis.Redis) -> None:
    store = SignalStore(redis_client)
    store.ensure_ids_above(41)
    assert store.next_id() == 42
    store.ensure_ids_above(10)
    assert store.next_id() == 43
