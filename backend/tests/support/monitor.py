"""The health monitor in integration tests: its settings and how to read one target's report."""

from __future__ import annotations

import json
from typing import Any

import redis
import requests

from ascep.common import channels
from support.processes import HttpService


def monitor_env(
    redis_url: str, gateway_port: int, grace_s: float = 0.0, interval_s: float = 0.2
) -> dict[str, str]:
    """Fast rounds; no start-up grace unless a test is about it (then targets are ``starting``)."""
    return {
        "REDIS_URL": redis_url,
        "GATEWAY_URL": f"http://127.0.0.1:{gateway_port}",
        "HEALTH_CHECK_INTERVAL_S": str(interval_s),
        "HEALTH_CHECK_TIMEOUT_S": "0.5",
        "HEALTH_UNHEALTHY_AFTER": "3",
        "HEALTH_RECOVER_AFTER": "2",
        "HEALTH_STARTUP_GRACE_S": str(grace_s),
    }


def watched(monitor: HttpService, name: str) -> dict[str, Any] | None:
    """The monitor's report of target ``name``, ``None`` until it watches it."""
    response = requests.get(f"{monitor.url}/monitor/services/{name}", timeout=2)
    return response.json() if response.status_code == 200 else None


def mirror_registry(client: redis.Redis, services: dict[str, str]) -> None:
    """Write the registry mirror the gateway keeps, so a monitor can run without a gateway."""
    client.hset(
        channels.REGISTRY_KEY,
        mapping={
            name: json.dumps({"url": url, "health_endpoint": "/health"}) for name, url in services.items()
        },
    )
