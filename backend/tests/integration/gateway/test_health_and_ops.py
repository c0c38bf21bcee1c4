"""Aggregated health, liveness/readiness/status, and the service listing."""

from __future__ import annotations

import json
from collections.abc import Callable

import requests
import socketio

from ascep.common import channels
from support.polling import wait_for
from support.ports import free_port
from support.processes import HttpService


def control_upstream_health(upstream: HttpService, status: str) -> None:
    requests.post(f"{upstream.url}/control/health?status={status}", timeout=5).raise_for_status()


def test_degraded_when_some_services_are_down(start_gateway: Callable[..., HttpService]) -> None:
    gw = start_gateway()
    response = requests.get(f"{gw.url}/api/health", timeout=10)
    assert response.status_code == 200
    report = response.json()
    assert report["status"] == report["overall_status"] == "degraded"
    assert report["services"]["price_feed"]["status"] == "healthy"
    assert report["services"]["price_feed"]["response_time_ms"] >= 0
    assert report["services"]["arbitrage"] == report["services"]["arbitrage"] | {
        "status": "unhealthy",
        "error": "unreachable",
        "reason": "unreachable",
    }
    assert report["services"]["price_feed"]["reason"] is None
    assert report["redis"]["status"] == "healthy"
    assert report["summary"] == {"healthy": 1, "starting": 0, "degraded": 0, "unhealthy": 4, "total": 5}
    assert report["active_connections"] == 0


def test_healthy_then_unhealthy(start_gateway: Callable[..., HttpService], upstream: HttpService) -> None:
    everything_up = {f"{name}_URL": upstream.url for name in ("HEALTH", "ARBITRAGE", "CEP_ENGINE", "TASKS")}
    gw = start_gateway(**everything_up)
    try:
        healthy = wait_for(
            lambda: (
                (r := requests.get(f"{gw.url}/api/health", timeout=10)).json()["status"] == "healthy" and r
            ),
            timeout=10,
            message="healthy once the bus bridge is subscribed",
        )
        assert healthy.status_code == 200
        assert healthy.json()["realtime"]["state"] == "connected"
        control_upstream_health(upstream, "unhealthy")
        unhealthy = requests.get(f"{gw.url}/api/health", timeout=10)
        assert unhealthy.status_code == 503
        body = unhealthy.json()
        assert body["status"] == "unhealthy"
        assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert body["request_id"] == unhealthy.headers["X-Request-ID"]
    finally:
        control_upstream_health(upstream, "healthy")


def test_services_are_polled_in_parallel(
    start_gateway: Callable[..., HttpService], upstream: HttpService
) -> None:
    """Five services whose health takes 0.8 s each: polled one by one that is 4 s; in parallel ~0.8 s."""
    everything_slow = {f"{name}_URL": upstream.url for name in ("HEALTH", "ARBITRAGE", "CEP_ENGINE", "TASKS")}
    gw = start_gateway(HEALTH_POLL_INTERVAL="600", **everything_slow)
    requests.post(f"{upstream.url}/control/health?status=healthy&delay_ms=800", timeout=5).raise_for_status()
    try:
        response = requests.get(f"{gw.url}/api/health", timeout=10)
    finally:
        control_upstream_health(upstream, "healthy")
    assert response.json()["summary"]["healthy"] == 5
    assert 0.8 <= response.elapsed.total_seconds() < 2.5
    assert all(s["response_time_ms"] >= 800 for s in response.json()["services"].values())


def test_active_connections_counts_socketio_clients(start_gateway: Callable[..., HttpService]) -> None:
    gw = start_gateway()
    clients = [socketio.Client(reconnection=False) for _ in range(2)]
    try:
        for client in clients:
            client.connect(gw.url, transports=["websocket"], wait_timeout=10)
        wait_for(
            lambda: requests.get(f"{gw.url}/api/health", timeout=10).json()["active_connections"] == 2,
            timeout=10,
            message="two clients counted",
        )
        assert requests.get(f"{gw.url}/status", timeout=5).json()["realtime"]["active_connections"] == 2
    finally:
        for client in clients:
            client.disconnect()
    wait_for(
        lambda: requests.get(f"{gw.url}/status", timeout=5).json()["realtime"]["active_connections"] == 0,
        timeout=10,
        message="disconnects counted",
    )


def test_liveness_readiness_and_status(start_gateway: Callable[..., HttpService]) -> None:
    gw = start_gateway(SECRET_KEY="a-very-secret-value-that-must-not-leak")
    live = requests.get(f"{gw.url}/health", timeout=5)
    assert live.status_code == 200
    assert live.json()["status"] == "healthy"
    ready = requests.get(f"{gw.url}/ready", timeout=5).json()
    assert ready["ready"] is True
    assert ready["checks"]["redis"]["status"] == "healthy"
    status = requests.get(f"{gw.url}/status", timeout=5)
    assert "a-very-secret-value" not in status.text
    body = status.json()
    assert body["config"]["SECRET_KEY"] == "***"
    assert body["latency_recorder"]["buffer_max"] == 100000
    assert body["redis"]["reachable"] is True


def test_without_redis_the_gateway_still_proxies(start_gateway: Callable[..., HttpService]) -> None:
    gw = start_gateway(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert requests.get(f"{gw.url}/api/prices", timeout=5).status_code == 200
    not_ready = requests.get(f"{gw.url}/ready", timeout=5)
    assert not_ready.status_code == 503
    assert not_ready.json()["error"]["details"] == {"failing": ["redis"]}
    health = requests.get(f"{gw.url}/api/health", timeout=10).json()
    assert health["redis"]["status"] == "unhealthy"
    assert health["status"] == "degraded"


def test_registry_is_mirrored_to_redis_for_discovery(
    start_gateway: Callable[..., HttpService], upstream: HttpService, redis_client
) -> None:
    start_gateway()
    mirrored = wait_for(
        lambda: redis_client.hgetall(channels.REGISTRY_KEY), timeout=10, message="registry mirrored"
    )
    assert set(mirrored) == {"health", "price_feed", "arbitrage", "cep_engine", "tasks"}
    price_feed = json.loads(mirrored["price_feed"])
    assert price_feed["url"] == upstream.url
    assert price_feed["endpoints"] == ["/prices", "/sources"]
    assert price_feed["health_endpoint"] == "/health"


def test_services_listing(start_gateway: Callable[..., HttpService], upstream: HttpService) -> None:
    gw = start_gateway()
    requests.get(f"{gw.url}/api/prices", timeout=5)

    def listed() -> dict:
        listing = requests.get(f"{gw.url}/api/services", timeout=5).json()
        entry = next(s for s in listing["services"] if s["name"] == "price_feed")
        known = entry["health"]["status"] != "unknown"
        counted = entry["latency"] and entry["latency"]["count"] == 1
        return entry if known and counted else {}

    entry = wait_for(listed, timeout=10, message="health polled and latency recorded")
    assert entry["host"] == "127.0.0.1"
    assert entry["port"] == upstream.port
    assert entry["endpoints"] == ["/prices", "/sources"]
    assert entry["routes"] == ["/api/prices", "/api/sources"]
    assert entry["health_endpoint"] == "/health"
    assert entry["health"]["status"] == "healthy"
    assert entry["description"]
