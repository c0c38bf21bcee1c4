"""The detector behind the real gateway: registry routes and the Socket.IO push."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
import requests

from integration.arbitrage.test_service import env, market
from support.ports import free_port
from support.processes import HttpService
from support.sio import RecordingClient

pytestmark = pytest.mark.integration


def test_gateway_routes_and_pushes_signals(
    start_service: Callable[..., HttpService], redis_url: str, redis_client: redis.Redis
) -> None:
    arbitrage = start_service("arbitrage", "ascep.arbitrage", env=env(redis_url))
    closed = f"http://127.0.0.1:{free_port()}"
    gateway = start_service(
        "gateway",
        "ascep.gateway",
        env={
            "REDIS_URL": redis_url,
            "ARBITRAGE_URL": arbitrage.url,
            "PRICE_FEED_URL": closed,
            "HEALTH_URL": closed,
            "CEP_ENGINE_URL": closed,
            "TASKS_URL": closed,
        },
    )
    response = requests.put(
        f"{gateway.url}/api/arbitrage/config", json={"severity_thresholds": {"high": 0.25}}, timeout=5
    )
    assert response.status_code == 200, response.text
    assert requests.get(f"{gateway.url}/api/arbitrage/config", timeout=5).json()["severity_thresholds"] == {
        "high": 0.25,
        "medium": 0.1,
    }
    rejected = requests.put(f"{gateway.url}/api/arbitrage/config", json={"max_cycle_length": 0}, timeout=5)
    assert (rejected.status_code, rejected.json()["error"]["details"]["field"]) == (422, "max_cycle_length")

    client = RecordingClient(gateway.url)
    try:
        client.call("subscribe_signals", {"types": ["triangular"]})
        market(redis_client, (166.0, 166.02))
        (pushed,) = client.wait_events("arbitrage_signal", 1)
        assert (pushed["event"], pushed["type"], pushed["severity"]) == ("open", "triangular", "high")
    finally:
        client.client.disconnect()
    listing = requests.get(f"{gateway.url}/api/signals?status=open", timeout=5).json()
    assert [s["id"] for s in listing["signals"]] == [pushed["id"]]
    one = requests.get(f"{gateway.url}/api/signals/{pushed['id']}", timeout=5).json()
    assert one["key"] == pushed["key"]
    assert requests.get(f"{gateway.url}/api/arbitrage/stats", timeout=5).json()["open_now"] == 1
