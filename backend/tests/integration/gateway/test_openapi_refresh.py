"""The gateway's OpenAPI document while services come, hang and go (real processes).

A service that hangs on ``/openapi.json`` never delays the document (the fetch is in the
background, bounded by ``OPENAPI_FETCH_TIMEOUT``); one that dies keeps its last good paths,
marked stale in ``info.x-ascep-services``, its tag and the description; one that comes back is
fresh again within ``OPENAPI_REFRESH_SECONDS``.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

import pytest
import requests

from support.polling import wait_for
from support.ports import free_port
from support.processes import HttpService
from support.raw_servers import SilentServer

pytestmark = pytest.mark.integration


def _document(gateway: HttpService) -> dict[str, Any]:
    # A short client timeout on purpose: the document is prepared, never fetched on the request.
    response = requests.get(gateway.url + "/api/openapi.json", timeout=3)
    assert response.status_code == 200
    return response.json()


def _state(gateway: HttpService, service: str) -> str:
    return _document(gateway)["info"]["x-ascep-services"][service]["state"]


def test_hung_dead_and_returning_services(start_service: Callable[..., HttpService], redis_url: str) -> None:
    hung = SilentServer().start()
    try:
        price_feed = start_service(
            "price_feed",
            "ascep.price_feed",
            {"REDIS_URL": redis_url, "PRICE_SOURCES": "forex", "FOREX_TICK_RATE": "1"},
        )
        closed = f"http://127.0.0.1:{free_port()}"
        gateway = start_service(
            "gateway",
            "ascep.gateway",
            {
                "REDIS_URL": redis_url,
                "PRICE_FEED_URL": price_feed.url,
                "ARBITRAGE_URL": hung.url,
                "CEP_ENGINE_URL": closed,
                "TASKS_URL": closed,
                "HEALTH_URL": closed,
                "OPENAPI_REFRESH_SECONDS": "1",
                "OPENAPI_FETCH_TIMEOUT": "0.5",
                "HEALTH_CHECK_TIMEOUT": "0.5",
                "RATE_LIMIT": "off",  # the test polls the document quickly from one address
            },
        )
        wait_for(lambda: _state(gateway, "price_feed") == "fresh", timeout=15, message="price_feed described")
        doc = _document(gateway)
        assert "/api/prices/{symbol}" in doc["paths"]
        services = doc["info"]["x-ascep-services"]
        assert services["arbitrage"]["state"] == "unavailable"  # hung: timed out, nothing to show
        assert services["cep_engine"]["state"] == "unavailable"  # refused
        assert "/api/signals" not in doc["paths"]
        status = requests.get(gateway.url + "/status", timeout=3).json()["openapi"]
        hung_state = status["services"]["arbitrage"]
        assert hung_state["state"] == "unavailable"
        assert "Timeout" in hung_state["error"]
        assert "arbitrage" in doc["info"]["description"]

        price_feed.stop(sig=signal.SIGKILL)
        wait_for(
            lambda: _state(gateway, "price_feed") == "stale", timeout=15, message="price_feed marked stale"
        )
        doc = _document(gateway)
        assert "/api/prices/{symbol}" in doc["paths"]  # the last good copy stays
        tag = next(t for t in doc["tags"] if t["name"] == "price_feed")
        assert "stale" in tag["description"]
        assert tag["x-ascep-state"] == "stale"
        assert doc["info"]["x-ascep-services"]["price_feed"]["fetched_at"] is not None

        start_service(
            "price_feed_again",
            "ascep.price_feed",
            {"REDIS_URL": redis_url, "PRICE_SOURCES": "forex", "FOREX_TICK_RATE": "1"},
            port=price_feed.port,
        )
        wait_for(
            lambda: _state(gateway, "price_feed") == "fresh", timeout=15, message="price_feed fresh again"
        )
        assert gateway.alive()
    finally:
        hung.stop()
