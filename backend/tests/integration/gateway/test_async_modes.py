"""``ASYNC_MODE`` is a setting: the gateway also runs on gevent and on plain threads."""

from __future__ import annotations

import time

import pytest
import requests

from ascep.common import bus, channels
from support.polling import wait_for
from support.sio import RecordingClient


@pytest.mark.parametrize("mode", ["threading", "gevent"])
def test_other_async_modes_proxy_and_push(start_gateway, redis_client, mode: str) -> None:
    gw = start_gateway(ASYNC_MODE=mode)
    assert requests.get(f"{gw.url}/api/prices/x?y=1", timeout=5).json()["query"] == "y=1"
    assert requests.get(f"{gw.url}/status", timeout=5).json()["config"]["ASYNC_MODE"] == mode
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

        wait_for(pushed, timeout=15, interval=0.2, message=f"a price pushed in {mode} mode")
    finally:
        client.close()
