"""The real service process (eventlet, websocket-client on green sockets, real Redis)."""

from __future__ import annotations

import json
import signal
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import requests

from ascep.common.channels import PRICE_UPDATES, PRICES_LATEST_KEY
from ascep.common.instruments import DEFAULT_FOREX_SYMBOLS
from integration.price_feed.binance_server import FakeBinance
from support.polling import wait_for
from support.processes import HttpService
from support.redis_server import RedisServer
from unit.price_feed.triangles import triangle_edges

pytestmark = pytest.mark.integration

StartService = Callable[..., HttpService]


def latest(client: redis.Redis, symbol: str) -> dict[str, Any]:
    raw = client.hget(PRICES_LATEST_KEY, symbol)
    return json.loads(raw) if raw else {}


@pytest.fixture
def fake_binance() -> Iterator[FakeBinance]:
    """A fake Binance the service connects to; stopped (if running) after the test."""
    fake = FakeBinance(interval=0.05).start()
    yield fake
    fake.stop()


def test_auto_fails_over_to_simulated_and_back_to_binance(
    start_service: StartService, redis_url: str, redis_client: redis.Redis, fake_binance: FakeBinance
) -> None:
    service = start_service(
        "price_feed",
        "ascep.price_feed",
        env={
            "REDIS_URL": redis_url,
            "PRICE_SOURCES": "auto",
            "CRYPTO_SYMBOLS": "BTCUSDT,ETHUSDT,ETHBTC",
            "BINANCE_WS_URL": fake_binance.url,
            "BINANCE_IDLE_TIMEOUT_S": "0.5",
            "BINANCE_BACKOFF_INITIAL_S": "0.1",
            "BINANCE_BACKOFF_CAP_S": "0.3",
            "FAILOVER_DELAY_S": "1.0",
            "SIMULATED_TICK_RATE": "5",
            "FOREX_TICK_RATE": "1",
        },
    )
    wait_for(
        lambda: latest(redis_client, "BTCUSDT").get("source") == "binance", timeout=10, message="binance data"
    )
    sources = requests.get(f"{service.url}/sources", timeout=2).json()
    assert sources["active_crypto_source"] == "binance"
    assert sources["sources"]["binance"]["state"] == "connected"
    assert sources["sources"]["simulated"]["state"] == "standby"
    assert latest(redis_client, "EUR/USD")["source"] == "forex"  # forex always simulated

    fake_binance.stop()  # Binance unreachable
    wait_for(
        lambda: latest(redis_client, "BTCUSDT").get("source") == "simulated", timeout=5, message="failover"
    )
    record = latest(redis_client, "BTCUSDT")
    assert record["price"] == pytest.approx(65000.0, rel=0.01)  # anchored on the last real price
    health = requests.get(f"{service.url}/health", timeout=2)
    assert health.status_code == 200
    assert health.json()["checks"]["feed"]["status"] == "degraded"
    assert requests.get(f"{service.url}/sources", timeout=2).json()["active_crypto_source"] == "simulated"

    fake_binance.start()  # same port: Binance is back
    wait_for(
        lambda: latest(redis_client, "BTCUSDT").get("source") == "binance", timeout=10, message="failback"
    )
    wait_for(
        lambda: (
            requests.get(f"{service.url}/sources", timeout=2).json()["sources"]["simulated"]["state"]
            == "standby"
        ),
        timeout=5,
    )
    report = requests.get(f"{service.url}/sources", timeout=2).json()["sources"]
    assert report["binance"]["reconnects"] >= 1
    assert report["simulated"]["activations"] == 1

    assert service.stop(signal.SIGTERM) == 0
    assert "price feed stopped" in service.log_text()


def _tick_groups(pubsub: Any, ticks: int) -> list[dict[str, tuple[float, float]]]:
    """Collect ``ticks`` complete forex ticks (every pair of one tick shares its ``ts``)."""
    by_ts: dict[int, dict[str, tuple[float, float]]] = defaultdict(dict)
    complete: list[dict[str, tuple[float, float]]] = []

    def collect() -> bool:
        while message := pubsub.get_message(timeout=0.05):  # drain what is there
            record = json.loads(message["data"])
            group = by_ts[record["ts"]]
            group[record["symbol"]] = (record["bid"], record["ask"])
            if len(group) == len(DEFAULT_FOREX_SYMBOLS):
                complete.append(by_ts.pop(record["ts"]))
        return len(complete) >= ticks

    wait_for(collect, timeout=20, message=f"{ticks} complete forex ticks")
    return complete


@pytest.fixture
def price_updates(redis_client: redis.Redis) -> Iterator[Any]:
    """A subscription to the price_updates channel."""
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(PRICE_UPDATES)
    yield pubsub
    pubsub.close()


def test_forex_crosses_stay_within_spread_without_injection(
    start_service: StartService, redis_url: str, price_updates: Any
) -> None:
    env = {"REDIS_URL": redis_url, "PRICE_SOURCES": "forex", "FOREX_TICK_RATE": "20"}
    start_service("price_feed", "ascep.price_feed", env=env)
    groups = _tick_groups(price_updates, 30)
    worst = max(max(triangle_edges(group).values()) for group in groups)
    assert worst <= 0


def test_forex_injected_mispricing_is_real_then_gone(
    start_service: StartService, redis_url: str, price_updates: Any
) -> None:
    env = {
        "REDIS_URL": redis_url,
        "PRICE_SOURCES": "forex",
        "FOREX_TICK_RATE": "20",
        "FOREX_MISPRICING_INTERVAL_S": "0.5",
        "FOREX_MISPRICING_DURATION_S": "0.25",
        "FOREX_MISPRICING_SIZE_PCT": "0.6",
    }
    service = start_service("price_feed", "ascep.price_feed", env=env)
    groups = _tick_groups(price_updates, 40)
    edges = [triangle_edges(group) for group in groups]
    mispriced = [e for e in edges if max(e.values()) > 0]
    assert mispriced, "no injected mispricing seen"
    assert all(max(e.values()) > 0.003 for e in mispriced)  # beats 3 x 0.1 % fees
    assert all(sum(v > 0 for v in e.values()) == 1 for e in mispriced)  # one cross at a time
    assert len(mispriced) < len(edges)  # it ends: consistent ticks in between
    forex = requests.get(f"{service.url}/sources", timeout=2).json()["sources"]["forex"]
    assert forex["mispricing"]["enabled"] is True
    assert forex["mispricing"]["injected"] >= 1


def test_redis_down_and_back_no_crash_and_publication_resumes(
    start_service: StartService, redis_url: str, redis_server: RedisServer
) -> None:
    env = {"REDIS_URL": redis_url, "PRICE_SOURCES": "simulated", "SIMULATED_TICK_RATE": "10"}
    service = start_service("price_feed", "ascep.price_feed", env=env)
    client = redis_server.client()
    wait_for(lambda: latest(client, "BTCUSDT"), timeout=5)
    assert requests.get(f"{service.url}/ready", timeout=2).status_code == 200

    redis_server.stop(kill=True)
    try:

        def degraded() -> bool:
            body = requests.get(f"{service.url}/health", timeout=2).json()
            return body["checks"]["publisher"]["status"] == "degraded"

        wait_for(degraded, timeout=10, message="publisher degraded")
        assert requests.get(f"{service.url}/ready", timeout=5).status_code == 503
        before = requests.get(f"{service.url}/prices/BTCUSDT", timeout=2).json()["ts"]
        wait_for(
            lambda: requests.get(f"{service.url}/prices/BTCUSDT", timeout=2).json()["ts"] > before, timeout=5
        )
    finally:
        redis_server.start()  # empty: the feed must rebuild the latest hash by itself

    wait_for(lambda: latest(client, "BTCUSDT"), timeout=10, message="latest hash rebuilt")
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(PRICE_UPDATES)
    wait_for(lambda: pubsub.get_message(timeout=0.1), timeout=5, message="publication resumed")
    pubsub.close()
    status = requests.get(f"{service.url}/status", timeout=2).json()
    assert status["publisher"]["redis_up"] is True
    assert status["publisher"]["redis_errors"] >= 1
    metrics = requests.get(f"{service.url}/metrics", timeout=2).text
    assert 'price_feed_source_messages_total{source="simulated"}' in metrics
    assert "price_feed_redis_errors_total" in metrics
    assert service.alive()
    client.close()
