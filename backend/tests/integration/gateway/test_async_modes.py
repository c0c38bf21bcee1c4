"""``ASYNC_MODE`` is a setting: the gateway also runs on plain threads (development servers)."""

from __future__ import annotations

import time

import requests

from ascep.common import bus, channels
from support.polling import wait_for
from support.sio import RecordingClient


def test_threading_mode_proxies_and_pushes(start_gateway, redis_client) -> None:
    gw = start_gateway(ASYNC_MODE="threading")
    assert requests.get(f"{gw.url}/api/prices/x?y=1", timeout=5).json()["query"] == "y=1"
    assert requests.get(f"{gw.url}/status", timeout=5).json()["config"]["ASYNC_MODE"] == "threading"
    client = RecordingClient(gw.url, transports=["polling"])
    try:
        client.call("subscribe_prices", {"symbols": ["BTCUSDT"]})

        def pushed() -> bool:
            bus.publish(
                redis_client,
                channels.PRICE_UPDATES,
                {"symbol": "BTCUSDT", "price": 1.0, "source": "t", "ts": time.time_ns()},
            )
            return bool(client.prices())

        wait_for(pushed, timeout=15, interval=0.2, message="a price pushed in threading mode")
    finally:
        client.close()
