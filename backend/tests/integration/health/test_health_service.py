"""The health monitor as a real process: outages seen with hysteresis, events through the gateway,
history and availability over HTTP, the gateway's ``/api/health`` using (and surviving) it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from support.monitor import monitor_env, watched
from support.polling import wait_for
from support.ports import free_port
from support.processes import HttpService
from support.redis_server import RedisServer
from support.sio import RecordingClient
from support.stack import UPSTREAM_SCRIPT, gateway_env


def status_events(client: RecordingClient, service: str) -> list[dict[str, Any]]:
    return [e for e in client.events("service_status") if e["service"] == service]


@pytest.mark.timeout(90)
def test_outage_is_seen_with_hysteresis_and_reaches_socketio_clients(
    start_service: Callable[..., HttpService], redis_url: str, tmp_path: Path
) -> None:
    feed = HttpService("fake_feed", [sys.executable, str(UPSTREAM_SCRIPT)], {}, tmp_path)
    feed.start().wait_healthy()
    gateway_port, monitor_port = free_port(), free_port()
    try:
        monitor = start_service(
            "health", "ascep.health", monitor_env(redis_url, gateway_port), port=monitor_port
        )
        gateway = start_service(
            "gateway",
            "ascep.gateway",
            gateway_env(redis_url, feed, HEALTH_URL=monitor.url),
            port=gateway_port,
        )
        client = RecordingClient(gateway.url)
        try:
            wait_for(
                lambda: (w := watched(monitor, "price_feed")) and w["status"] == "healthy",
                timeout=20,
                message="the monitor discovers price_feed from the registry mirror and sees it healthy",
            )
            feed.stop()
            wait_for(
                lambda: (
                    [e["status"] for e in status_events(client, "price_feed")][-2:]
                    == ["degraded", "unhealthy"]
                ),
                timeout=20,
                message="degraded then unhealthy service_status events",
            )
            outage = status_events(client, "price_feed")
            assert outage[-1]["previous_status"] == "degraded"

            feed.start().wait_healthy()
            wait_for(
                lambda: status_events(client, "price_feed")[-1]["status"] == "healthy",
                timeout=20,
                message="recovery announced",
            )
            recovery = status_events(client, "price_feed")[-1]
            assert recovery["previous_status"] == "unhealthy"

            history = requests.get(
                f"{monitor.url}/history",
                params={"service": "price_feed", "since": 0, "limit": 2000},
                timeout=5,
            ).json()
            checks = [c for c in history["checks"] if c["ts"] <= recovery["ts"]]
            # Hysteresis: the first successful check after the outage left it unhealthy; the second
            # (HEALTH_RECOVER_AFTER=2) made it healthy.
            assert [c["outcome"] for c in checks[-3:]] == ["failed", "healthy", "healthy"]
            assert [c["status"] for c in checks[-3:]] == ["unhealthy", "unhealthy", "healthy"]
            assert [c["status"] for c in history["changes"]][-3:] == ["degraded", "unhealthy", "healthy"]

            report = watched(monitor, "price_feed")
            assert report is not None
            assert 0 < report["availability"]["1h"] < 100
            assert report["error_rate"] > 0

            health = requests.get(f"{gateway.url}/api/health", timeout=5).json()
            assert health["source"] == "health_service"
            assert health["services"]["price_feed"]["status"] == "healthy"
            assert health["services"]["arbitrage"]["status"] == "unhealthy"  # nothing listens there
            assert "availability" in health["services"]["price_feed"]

            full = requests.get(f"{monitor.url}/monitor", timeout=5).json()
            assert full["services"]["gateway"]["status"] == "healthy"
            assert full["services"]["redis"]["status"] == "healthy"
            assert full["system"]["redis"]["available"] is True
            assert full["system"]["host"]["memory"]["total"] > 0
            metrics = requests.get(f"{monitor.url}/metrics", timeout=5).text
            assert 'ascep_target_status{target="price_feed"} 0.0' in metrics

            monitor.stop()
            fallback = wait_for(
                lambda: (
                    (h := requests.get(f"{gateway.url}/api/health", timeout=5).json())["source"] == "gateway"
                    and h
                ),
                timeout=10,
                message="the gateway polls by itself when the monitor is gone",
            )
            assert fallback["services"]["health"]["status"] == "unhealthy"
            assert fallback["services"]["price_feed"]["status"] == "healthy"
        finally:
            client.close()
    finally:
        feed.stop()


@pytest.mark.timeout(60)
def test_redis_outage_degrades_the_monitor_and_it_recovers(
    start_service: Callable[..., HttpService], tmp_path: Path
) -> None:
    redis = RedisServer(tmp_path / "redis").start()
    try:
        monitor = start_service("health", "ascep.health", monitor_env(redis.url, free_port()))
        wait_for(lambda: (w := watched(monitor, "redis")) and w["status"] == "healthy", timeout=15)
        redis.stop()
        wait_for(
            lambda: (w := watched(monitor, "redis")) and w["status"] == "unhealthy",
            timeout=15,
            message="Redis reported unhealthy while down",
        )
        health = requests.get(f"{monitor.url}/health", timeout=5)
        assert health.status_code == 200
        assert health.json()["checks"]["redis"]["status"] == "degraded"
        history = requests.get(f"{monitor.url}/history", timeout=5)
        assert history.status_code == 503
        assert history.json()["error"]["code"] == "DEPENDENCY_UNAVAILABLE"
        redis.start()
        wait_for(
            lambda: (w := watched(monitor, "redis")) and w["status"] == "healthy",
            timeout=15,
            message="Redis healthy again after restart",
        )
        assert requests.get(f"{monitor.url}/health", timeout=5).json()["status"] in ("healthy", "degraded")
    finally:
        redis.stop()


def test_history_rejects_bad_parameters_with_the_envelope(
    start_service: Callable[..., HttpService], redis_url: str
) -> None:
    monitor = start_service("health", "ascep.health", monitor_env(redis_url, free_port()))
    bad = requests.get(f"{monitor.url}/history", params={"since": "yesterday"}, timeout=5)
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["parameter"] == "since"
    unknown = requests.get(f"{monitor.url}/history", params={"service": "nope"}, timeout=5)
    assert unknown.status_code == 404
    assert unknown.json()["request_id"]
