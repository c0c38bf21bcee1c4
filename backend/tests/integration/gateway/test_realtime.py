"""Real-time push through a real gateway: subscriptions, snapshots, ordering, outages, fan-out."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import requests

from ascep.common import bus, channels
from support.polling import wait_for
from support.processes import HttpService
from support.raw_sio import RawSocketIO
from support.redis_server import RedisServer
from support.sio import RecordingClient


def tick(symbol: str, ts: int, px: float = 100.0, **extra: object) -> dict:
    return {
        "symbol": symbol,
        "price": px,
        "bid": px - 0.5,
        "ask": px + 0.5,
        "volume": 1.0,
        "source": "test",
        "timestamp": "2026-11-23T00:00:00.000Z",
        "ts": ts,
        **extra,
    }


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def clients() -> Iterator[Callable[..., RecordingClient]]:
    made: list[RecordingClient] = []

    def make(url: str, **kwargs: object) -> RecordingClient:
        client = RecordingClient(url, **kwargs)  # type: ignore[arg-type]
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def wait_bridge(gw: HttpService) -> None:
    wait_for(
        lambda: (
            requests.get(f"{gw.url}/status", timeout=5).json()["realtime"]["bridge"]["state"] == "connected"
        ),
        timeout=10,
        message="bus bridge connected",
    )


def test_connected_event_and_both_transports(start_gateway, clients) -> None:
    gw = start_gateway()
    for transports in (["websocket"], ["polling"]):
        client = clients(gw.url, transports=transports)
        hello = client.wait_events("connected", 1)[0]
        assert hello["server"] == "ascep-gateway"
        assert hello["version"]
        assert hello["time"].endswith("Z")


def test_realtime_status_times_are_iso_8601(start_gateway) -> None:
    gw = start_gateway()
    wait_bridge(gw)
    for url in (f"{gw.url}/status", f"{gw.url}/api/health"):
        body = requests.get(url, timeout=10).json()
        bridge = body["realtime"]["bridge"] if "bridge" in body["realtime"] else body["realtime"]
        since = bridge["connected_since"]
        assert isinstance(since, str), (url, since)
        assert since.endswith("Z")
        connected = datetime.fromisoformat(since.replace("Z", "+00:00"))
        assert abs((datetime.now(UTC) - connected).total_seconds()) < 60


def test_subscribe_routes_exactly_the_subscribed_symbols(start_gateway, clients, redis_client) -> None:
    gw = start_gateway()
    wait_bridge(gw)
    btc, everything = clients(gw.url), clients(gw.url)
    ack = btc.call("subscribe_prices", {"symbols": ["btcusdt"]})
    # unknown: no BTCUSDT price seen yet; the subscription keeps it, and the ticks below flow
    assert ack == {"ok": True, "stream": "prices", "subscribed": True, "symbols": ["BTCUSDT"], "batch": False,
                   "resolved": {}, "unknown": ["BTCUSDT"], "protocol": 2,
                   "delivery": "subscribed"}  # fmt: skip
    assert btc.wait_events("subscription_confirmed", 1)[0]["symbols"] == ["BTCUSDT"]
    assert everything.call("subscribe_prices")["symbols"] is None

    base = now_ms()
    for i in range(5):
        bus.publish(redis_client, channels.PRICE_UPDATES, tick("BTCUSDT", base + i))
        bus.publish(redis_client, channels.PRICE_UPDATES, tick("ETHUSDT", base + i))
    assert [p["ts"] for p in btc.wait_prices(5)] == [base + i for i in range(5)]
    everything.wait_prices(10)
    assert btc.call("unsubscribe_prices")["subscribed"] is False
    bus.publish(redis_client, channels.PRICE_UPDATES, tick("BTCUSDT", base + 100))
    everything.wait_prices(11)
    assert len(btc.prices()) == 5
    assert all(p["symbol"] == "BTCUSDT" for p in btc.prices())


def test_snapshot_on_subscribe_then_live(start_gateway, clients, redis_client) -> None:
    base = now_ms()
    redis_client.hset(
        channels.PRICES_LATEST_KEY,
        mapping={
            "BTCUSDT": json.dumps(tick("BTCUSDT", base, 97000.0)),
            "EUR/USD": json.dumps(tick("EUR/USD", base, 1.08)),
        },
    )
    gw = start_gateway()
    wait_bridge(gw)
    client = clients(gw.url)
    client.call("subscribe_prices", {"symbols": ["BTCUSDT", "EURUSD"]})
    snapshot = client.wait_prices(2)
    assert {p["symbol"]: p["price"] for p in snapshot} == {"BTCUSDT": 97000.0, "EUR/USD": 1.08}
    bus.publish(redis_client, channels.PRICE_UPDATES, tick("EUR/USD", base + 5, 1.09))
    assert client.wait_prices(3)[-1]["price"] == 1.09


def test_batched_delivery_keeps_every_tick_in_order(start_gateway, clients, redis_client) -> None:
    gw = start_gateway()
    wait_bridge(gw)
    client = clients(gw.url)
    assert client.call("subscribe_prices", {"batch": True})["batch"] is True
    base = now_ms()
    pipe = redis_client.pipeline(transaction=False)
    for i in range(300):
        pipe.publish(channels.PRICE_UPDATES, json.dumps(tick(f"S{i % 7}", base + i)))
    pipe.execute()
    received = client.wait_prices(300)
    assert not client.events("price_update")
    assert 1 <= len(client.events("price_batch")) < 300, "ticks arrive grouped"
    assert [p["ts"] for p in received] == [base + i for i in range(300)]


def test_signal_filters_and_alerts(start_gateway, clients, redis_client) -> None:
    gw = start_gateway()
    wait_bridge(gw)
    picky, alerts = clients(gw.url), clients(gw.url)
    ack = picky.call("subscribe_signals", {"types": ["triangular"], "min_spread_percentage": 0.5})
    assert ack["filters"] == {"types": ["triangular"], "min_spread_percentage": 0.5}
    assert alerts.call("subscribe_alerts")["subscribed"] is True
    signals = [
        {"id": "1", "type": "triangular", "spread_percentage": 0.7},
        {"id": "2", "type": "direct", "spread_percentage": 2.0},
        {"id": "3", "type": "triangular", "spread_percentage": 0.2},
        {"id": "4", "type": "triangular", "spread_percentage": 1.5},
    ]
    for signal in signals:
        bus.publish(redis_client, channels.ARBITRAGE_SIGNALS, signal)
    bus.publish(redis_client, channels.CEP_ALERTS, {"id": "a1", "rule_id": "r1"})
    assert [s["id"] for s in picky.wait_events("arbitrage_signal", 2)] == ["1", "4"]
    assert alerts.wait_events("cep_alert", 1)[0]["id"] == "a1"
    bus.publish(redis_client, channels.SERVICE_STATUS, {"service": "price_feed", "status": "healthy"})
    picky.wait_events("service_status", 1)
    alerts.wait_events("service_status", 1)
    assert not picky.events("cep_alert")
    assert not alerts.events("arbitrage_signal")


@pytest.mark.parametrize(
    ("event", "payload", "field"),
    [
        ("subscribe_prices", "BTCUSDT", "$"),
        ("subscribe_prices", {"symbols": 5}, "symbols"),
        ("subscribe_prices", {"sym": ["X"]}, "sym"),
        ("subscribe_signals", {"types": ["bogus"]}, "types"),
        ("subscribe_alerts", {"x": 1}, "x"),
    ],
)
def test_malformed_payloads_get_an_error_not_a_disconnect(
    start_gateway, clients, event, payload, field
) -> None:
    gw = start_gateway()
    client = clients(gw.url)
    ack = client.call(event, payload)
    assert ack["ok"] is False
    assert ack["error"]["code"] == "VALIDATION_ERROR"
    assert ack["error"]["details"] == {"event": event, "field": field}
    error = client.wait_events("error", 1)[0]
    assert set(error) == {"error", "request_id"}
    assert client.call("subscribe_prices")["ok"] is True, "the connection is still usable"
    assert client.disconnects == 0


def test_redis_restart_mid_stream_resumes_without_client_reconnect(
    start_service, upstream, clients, tmp_path
) -> None:
    from .conftest import gateway_env

    redis_server = RedisServer(tmp_path / "redis").start()
    try:
        gw = start_service("gateway", "ascep.gateway", gateway_env(redis_server.url, upstream))
        wait_bridge(gw)
        client = clients(gw.url)
        sid = client.sid
        client.call("subscribe_prices")
        publisher = redis_server.client()
        bus.publish(publisher, channels.PRICE_UPDATES, tick("BTCUSDT", now_ms()))
        client.wait_prices(1)

        redis_server.stop(kill=True)
        wait_for(
            lambda: (
                requests.get(f"{gw.url}/status", timeout=5).json()["realtime"]["bridge"]["state"]
                == "reconnecting"
            ),
            timeout=10,
            message="bridge notices the outage",
        )
        assert requests.get(f"{gw.url}/api/health", timeout=10).json()["realtime"]["state"] == "reconnecting"
        redis_server.start()
        restarted = time.monotonic()
        publisher = redis_server.client()

        def delivered() -> bool:
            bus.publish(publisher, channels.PRICE_UPDATES, tick("BTCUSDT", now_ms()))
            return len(client.prices()) >= 2

        wait_for(delivered, timeout=10, interval=0.1, message="delivery after the restart")
        assert time.monotonic() - restarted < 8
        assert client.sid == sid
        assert client.disconnects == 0
        bridge = requests.get(f"{gw.url}/status", timeout=5).json()["realtime"]["bridge"]
        assert bridge["state"] == "connected"
        assert bridge["reconnects"] >= 1
    finally:
        redis_server.stop()


def test_two_gateways_each_event_exactly_once_per_client(start_gateway, clients, redis_client) -> None:
    first, second = start_gateway(), start_gateway()
    wait_bridge(first)
    wait_bridge(second)
    on_first = [clients(first.url) for _ in range(2)]
    on_second = [clients(second.url) for _ in range(2)]
    for client in on_first + on_second:
        client.call("subscribe_prices")
        client.call("subscribe_signals")
    base = now_ms()
    for i in range(100):
        bus.publish(redis_client, channels.PRICE_UPDATES, tick(f"S{i % 5}", base + i))
        if i % 10 == 0:
            bus.publish(redis_client, channels.ARBITRAGE_SIGNALS, {"id": str(i), "type": "cycle"})
    # A sentinel published last: once it arrives, any duplicate of earlier events would have too.
    bus.publish(redis_client, channels.SERVICE_STATUS, {"sentinel": True})
    for client in on_first + on_second:
        client.wait_events("service_status", 1)
        prices = client.prices()
        assert len(prices) == 100
        assert Counter(p["ts"] for p in prices).most_common(1)[0][1] == 1
        assert sorted(s["id"] for s in client.events("arbitrage_signal")) == sorted(
            str(i) for i in range(0, 100, 10)
        )


def test_a_stuck_client_does_not_slow_the_others(start_gateway, redis_client) -> None:
    """A client that never reads is conflated; the others get every event, in order, promptly.

    The healthy clients are :class:`RawSocketIO` readers: python-socketio's client validates UTF-8
    in pure Python (~6 ms per 4 KB event) and starts a thread per event, so two of them at this
    rate saturate the test process and — not the gateway — made this test flaky.
    """
    gw = start_gateway(SOCKETIO_QUEUE_HIGH="50", SOCKETIO_QUEUE_LOW="5")
    wait_bridge(gw)
    stuck = RawSocketIO(gw.url, rcvbuf=2048, read=False)  # subscribes, then never reads
    stuck.emit("subscribe_prices")
    healthy = [RawSocketIO(gw.url) for _ in range(2)]
    try:
        for client in healthy:
            client.emit("subscribe_prices")
            client.wait_count("subscription_confirmed", 1)
        # 4 KB events at a steady 250/s: the stuck client's socket buffers fill within seconds.
        padding, total, rate = "x" * 4000, 2000, 250.0
        started = time.monotonic()
        for i in range(total):
            payload = tick(f"S{i % 10}", now_ms() * 1000 + i, pad=padding, sent_at=time.time())
            bus.publish(redis_client, channels.PRICE_UPDATES, payload)
            ahead = started + (i + 1) / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)  # pacing the publisher, not waiting for a result
        for client in healthy:
            client.wait_count("price_update", total, timeout=30)
        status = requests.get(f"{gw.url}/status", timeout=5).json()["realtime"]["fanout"]
        assert status["lagging_clients"] == 1, status  # the stuck one, never a healthy one
        assert status["conflated_updates"] > 0
        metrics = requests.get(f"{gw.url}/metrics", timeout=5).text
        assert "ascep_gateway_socketio_lagging_clients 1.0" in metrics
        for client in healthy:
            received = client.events("price_update")
            assert [p["ts"] for _, p in received] == sorted(p["ts"] for _, p in received), "in order"
            delays = sorted(at - p["sent_at"] for at, p in received)
            assert len(delays) == total, "the healthy clients lost nothing"
            p50, p99 = delays[total // 2], delays[int(total * 0.99)]
            assert p99 < 0.25, f"p99 delivery {p99:.3f}s"
            # With Nagle's algorithm on the gateway's sockets the median was 17 ms (ACK stalls).
            assert p50 < 0.010, f"median delivery {p50 * 1000:.1f} ms"
    finally:
        for client in [stuck, *healthy]:
            client.close()
