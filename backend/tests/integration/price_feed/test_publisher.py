"""The publisher against a real redis-server: storage, publication, outages, recovery."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
import redis

from ascep.common.backoff import Backoff
from ascep.common.channels import PRICE_HISTORY_FIELD, PRICE_UPDATES, PRICES_LATEST_KEY, price_history_key
from ascep.common.events import PriceUpdate
from ascep.common.redis_client import connect
from ascep.price_feed.publisher import RedisPublisher
from support.polling import wait_for
from support.redis_server import RedisServer

pytestmark = pytest.mark.integration


def record(symbol: str, price: float, ts: int | None = None) -> PriceUpdate:
    return PriceUpdate(
        symbol, price, price - 0.5, price + 0.5, 12.0, "binance", ts or int(time.time() * 1000)
    )


@pytest.fixture
def publisher(redis_url: str) -> Iterator[RedisPublisher]:
    """A started publisher with a small buffer and fast backoff, stopped after the test."""
    pub = RedisPublisher(
        lambda: connect(redis_url, socket_timeout=1.0, connect_timeout=0.5),
        history_maxlen=50,
        capacity=100,
        batch_size=20,
        backoff=Backoff(initial=0.05, cap=0.2),
    )
    pub.start()
    yield pub
    pub.stop(flush_timeout=0.5)


def test_latest_hash_history_stream_and_channel(publisher: RedisPublisher, redis_client: redis.Redis) -> None:
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(PRICE_UPDATES)
    wait_for(lambda: redis_client.pubsub_numsub(PRICE_UPDATES)[0][1] == 1)
    first, second = record("BTCUSDT", 100.0, 1000), record("BTCUSDT", 101.0, 1001)
    publisher.submit(first, time.monotonic_ns())
    publisher.submit(second, time.monotonic_ns())
    publisher.submit(record("EUR/USD", 1.08, 1002), time.monotonic_ns())
    wait_for(lambda: publisher.published == 3)

    latest = redis_client.hgetall(PRICES_LATEST_KEY)
    assert set(latest) == {"BTCUSDT", "EUR/USD"}
    assert json.loads(latest["BTCUSDT"]) == second.to_dict()  # exactly PriceUpdate.to_dict()
    history = redis_client.xrange(price_history_key("BTCUSDT"))
    stored = [json.loads(fields[PRICE_HISTORY_FIELD]) for _, fields in history]
    assert stored == [first.to_dict(), second.to_dict()]
    prices: list[float] = []

    def three_received() -> bool:
        message = pubsub.get_message(timeout=0.1)
        if message:
            prices.append(json.loads(message["data"])["price"])
        return len(prices) == 3

    wait_for(three_received, message="three published records")
    assert prices == [100.0, 101.0, 1.08]
    assert publisher.status()["publish_latency_ms"]["samples"] == 3
    pubsub.close()


def test_history_is_capped(publisher: RedisPublisher, redis_client: redis.Redis) -> None:
    for i in range(400):
        publisher.submit(record("ETHBTC", 0.05 + i * 1e-6, 1000 + i), time.monotonic_ns())
        if publisher.pending() > 50:
            wait_for(lambda: publisher.pending() < 10)
    wait_for(lambda: publisher.published == 400)
    length = redis_client.xlen(price_history_key("ETHBTC"))
    assert 50 <= length < 200  # MAXLEN ~ 50: trimmed by whole macro nodes


def test_redis_outage_never_blocks_submit_drops_are_counted_and_publication_resumes(
    publisher: RedisPublisher, redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    publisher.submit(record("BTCUSDT", 1.0), time.monotonic_ns())
    wait_for(lambda: publisher.published == 1)
    redis_server.stop(kill=True)
    try:
        started = time.monotonic()
        for i in range(300):
            publisher.submit(record("BTCUSDT", 2.0 + i), time.monotonic_ns())
        assert time.monotonic() - started < 0.5  # a dead Redis never slows the reader
        wait_for(lambda: publisher.redis_up is False, timeout=5)
        assert publisher.pending() == 100
        assert publisher.dropped >= 200
        assert publisher.status()["redis_errors"] >= 1
    finally:
        redis_server.start()
    wait_for(
        lambda: publisher.pending() == 0 and publisher.redis_up, timeout=10, message="drained after recovery"
    )
    latest = json.loads(redis_client.hget(PRICES_LATEST_KEY, "BTCUSDT") or "{}")
    assert latest["price"] == 301.0  # the newest record survived the outage
    publisher.submit(record("BTCUSDT", 999.0), time.monotonic_ns())
    wait_for(
        lambda: json.loads(redis_client.hget(PRICES_LATEST_KEY, "BTCUSDT") or "{}").get("price") == 999.0
    )


def test_submit_from_many_threads_keeps_every_record(publisher: RedisPublisher) -> None:
    def produce() -> None:
        for i in range(25):
            publisher.submit(record("SOLUSDT", 100.0 + i), time.monotonic_ns())

    threads = [threading.Thread(target=produce) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_for(lambda: publisher.published + publisher.dropped == 100)
    assert publisher.submitted == 100
