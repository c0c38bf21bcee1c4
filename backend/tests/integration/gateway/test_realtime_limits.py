"""Limits on what one Socket.IO client may send, against a real gateway, real Redis, raw clients."""

from __future__ import annotations

import contextlib
import json
import threading
import time

import psutil
import requests
import websocket

from ascep.common import channels
from support.polling import wait_for
from support.processes import HttpService
from support.raw_sio import RawSocketIO, event_packet, ws_url

FLOOD = [
    event_packet("subscribe_prices" if i % 2 == 0 else "unsubscribe_prices", {} if i % 2 == 0 else None)
    for i in range(40_000)
]


def status(gw: HttpService) -> dict:
    return requests.get(f"{gw.url}/status", timeout=5).json()["realtime"]


def wait_bridge(gw: HttpService) -> None:
    wait_for(lambda: status(gw)["bridge"]["state"] == "connected", timeout=10, message="bus bridge connected")


def subscribed_readers(gw: HttpService, count: int) -> list[RawSocketIO]:
    readers = [RawSocketIO(gw.url) for _ in range(count)]
    for reader in readers:
        reader.emit("subscribe_prices")
        reader.wait_count("subscription_confirmed", 1)
    return readers


class Publisher(threading.Thread):
    """Publishes small price ticks at a steady rate, each stamped with its publish time."""

    def __init__(self, redis_client, rate: float, seconds: float) -> None:
        super().__init__(daemon=True)
        self.redis, self.rate, self.total = redis_client, rate, int(rate * seconds)

    def run(self) -> None:
        started = time.monotonic()
        for i in range(self.total):
            tick = {"symbol": f"S{i % 5}", "price": 100.0, "ts": 1_000_000 + i, "sent_at": time.time()}
            self.redis.publish(channels.PRICE_UPDATES, json.dumps(tick))
            ahead = started + (i + 1) / self.rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)  # pacing the publisher, not waiting for a result


def test_a_flooding_client_is_disconnected_and_the_others_keep_their_latency(
    start_gateway, redis_client
) -> None:
    gw = start_gateway()
    wait_bridge(gw)
    readers = subscribed_readers(gw, 3)
    abuser = RawSocketIO(gw.url)
    gateway = psutil.Process(gw.pid)
    rss_before = gateway.memory_info().rss
    publisher = Publisher(redis_client, rate=100.0, seconds=3.0)
    try:
        publisher.start()
        time.sleep(0.5)  # the flood starts while the stream is running
        with contextlib.suppress(OSError):  # the gateway may close the socket mid-write
            abuser.flood(FLOOD)  # 40 000 messages, ~1.7 MB, in one write
        assert abuser.closed.wait(10), "the abuser is disconnected"
        publisher.join(timeout=30)
        for reader in readers:
            reader.wait_count("price_update", publisher.total, timeout=20)
        rss_growth = gateway.memory_info().rss - rss_before
    finally:
        for client in [*readers, abuser]:
            client.close()

    seen = abuser.packets_seen()
    errors = [json.loads(p[2:])[1] for p in seen if p.startswith('42["error"')]
    assert errors, seen[-5:]
    assert errors[-1]["error"]["code"] == "RATE_LIMITED"
    assert errors[-1]["error"]["details"]["reason"] == "rate_limited"
    assert "41" in seen, "a Socket.IO disconnect follows the error"
    confirmed = [p for p in seen if p.startswith('42["subscription_confirmed"')]
    assert len(confirmed) <= 60, "the flood went unread"

    delays = sorted(at - p["sent_at"] for r in readers for at, p in r.events("price_update"))
    assert len(delays) == 3 * publisher.total, "nothing lost"
    p99 = delays[int(len(delays) * 0.99)]
    assert p99 <= 0.1, f"p99 delivery {p99 * 1000:.0f} ms during the flood"
    assert rss_growth < 20 * 1024 * 1024, f"gateway grew by {rss_growth / 1e6:.1f} MB"

    inbound = status(gw)["inbound"]
    assert inbound["clients_disconnected"] == {"rate_limited": 1}
    metrics = requests.get(f"{gw.url}/metrics", timeout=5).text
    assert 'ascep_gateway_socketio_clients_disconnected_total{reason="rate_limited"} 1.0' in metrics


def test_a_client_within_the_rate_is_never_disconnected(start_gateway) -> None:
    gw = start_gateway(SOCKETIO_CLIENT_RATE="50", SOCKETIO_CLIENT_BURST="10")
    client = RawSocketIO(gw.url)
    try:
        for i in range(40):  # 40 messages at ~25/s: twice the burst, half the rate
            client.emit("subscribe_prices" if i % 2 == 0 else "unsubscribe_prices")
            time.sleep(0.04)  # pacing the client, not waiting for a result
        client.wait_count("subscription_confirmed", 40)
        assert not client.closed.is_set()
        assert status(gw)["inbound"]["clients_disconnected"] == {}
    finally:
        client.close()


def test_a_message_above_the_size_limit_closes_the_connection(start_gateway) -> None:
    gw = start_gateway(SOCKETIO_MAX_MESSAGE_BYTES="4096")
    client = RawSocketIO(gw.url)
    try:
        client.emit("subscribe_prices", {"symbols": ["A" * 30] * 150})  # ~5 KB
        assert client.closed.wait(10), "the connection is closed"
        assert client.close_frame is not None
        assert client.close_frame[0] == 1009, client.close_frame  # websocket "message too big"
    finally:
        client.close()
    assert status(gw)["inbound"]["max_message_bytes"] == 4096


def test_the_size_limit_is_advertised_in_the_handshake(start_gateway) -> None:
    gw = start_gateway(SOCKETIO_MAX_MESSAGE_BYTES="8192")
    ws = websocket.create_connection(ws_url(gw.url), timeout=10)
    try:
        assert json.loads(ws.recv()[1:])["maxPayload"] == 8192
    finally:
        ws.close()


def test_too_many_symbols_in_one_subscription_is_a_validation_error(start_gateway) -> None:
    gw = start_gateway(SOCKETIO_MAX_SYMBOLS="3")
    client = RawSocketIO(gw.url)
    try:
        client.emit("subscribe_prices", {"symbols": ["A", "B", "C", "D"]})
        client.wait_count("error", 1)
        error = client.events("error")
        assert error[0][1]["error"]["details"] == {"event": "subscribe_prices", "field": "symbols"}
        client.emit("subscribe_prices", {"symbols": ["A", "B", "C"]})
        client.wait_count("subscription_confirmed", 1)
        assert not client.closed.is_set()
    finally:
        client.close()


def polling_session(gw: HttpService) -> str:
    """Open an Engine.IO long-polling session (no GET left waiting) and return its sid."""
    handshake = requests.get(f"{gw.url}/socket.io/?EIO=4&transport=polling", timeout=5)
    assert handshake.status_code == 200, handshake.text
    return json.loads(handshake.text[1:])["sid"]


def test_an_oversized_polling_post_is_answered_at_once(start_gateway) -> None:
    """python-engineio never answers an oversized POST when no GET is waiting: one green thread
    per such request, forever. The gateway refuses it before Engine.IO reads it."""
    gw = start_gateway(SOCKETIO_MAX_MESSAGE_BYTES="4096")
    sid = polling_session(gw)
    url = f"{gw.url}/socket.io/?EIO=4&transport=polling&sid={sid}"
    answer = requests.post(url, data=b"4" + b"x" * 5000, timeout=10)
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"]["details"]["limit_bytes"] == 4096
    chunked = requests.post(url, data=iter([b"4", b"x" * 10]), timeout=10)  # no Content-Length
    assert chunked.status_code == 411, chunked.text
    assert chunked.json()["error"]["code"] == "LENGTH_REQUIRED"
    fine = requests.post(f"{gw.url}/socket.io/?EIO=4&transport=polling&sid={polling_session(gw)}",
                         data=b"40", timeout=10)  # fmt: skip
    assert fine.status_code == 200, fine.text
