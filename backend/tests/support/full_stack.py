"""The whole platform as real processes: every registered service and a gateway in front of them.

Used by the tests that need every route live (the OpenAPI document, schemathesis, the docs page
in Chromium). The price feed runs its simulated sources slowly (a few ticks a second is plenty
to have prices) so the stack leaves the machine's two cores to the test.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from support.ports import free_port
from support.processes import HttpService

SERVICE_MODULES = {
    "price_feed": "ascep.price_feed",
    "arbitrage": "ascep.arbitrage",
    "cep_engine": "ascep.cep",
    "tasks": "ascep.tasks",
    "health": "ascep.health",
}
QUIET_PRICE_FEED = {
    "PRICE_SOURCES": "simulated,forex",
    "SIMULATED_TICK_RATE": "2",
    "FOREX_TICK_RATE": "2",
}


@dataclass
class Platform:
    """The started processes; ``gateway.url`` is the one address a client needs."""

    gateway: HttpService
    services: dict[str, HttpService]
    gateway_env: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        for process in (self.gateway, *reversed(list(self.services.values()))):
            process.stop()


@contextmanager
def running_platform(
    redis_url: str, log_dir: Path, gateway_overrides: Mapping[str, str] | None = None
) -> Iterator[Platform]:
    """Start the services, then the gateway (waiting for each ``/health``); stop all on exit."""
    common = {"REDIS_URL": redis_url, "LOG_LEVEL": "INFO"}
    gateway_port = free_port()
    extra = {
        "price_feed": QUIET_PRICE_FEED,
        "health": {"GATEWAY_URL": f"http://127.0.0.1:{gateway_port}", "HEALTH_CHECK_INTERVAL_S": "1"},
    }
    started: dict[str, HttpService] = {}
    gateway: HttpService | None = None
    try:
        for name, module in SERVICE_MODULES.items():
            service = HttpService(name, module, {**common, **extra.get(name, {})}, log_dir)
            started[name] = service.start()
        for service in started.values():
            service.wait_healthy(timeout=40)
        env = {
            **common,
            **{f"{name.upper()}_URL": service.url for name, service in started.items()},
            "LATENCY_FLUSH_INTERVAL": "0.05",
            "HEALTH_CHECK_TIMEOUT": "1",
            # Tests of the platform's behaviour, not of rate limits (tests/integration/gateway/
            # test_rate_limits.py): many quick calls from one address must not be refused.
            "RATE_LIMIT": "off",
            "RATE_LIMIT_SOCKETIO": "off",
            **(gateway_overrides or {}),
        }
        gateway = HttpService("gateway", "ascep.gateway", env, log_dir, port=gateway_port).start()
        gateway.wait_healthy(timeout=40)
        platform = Platform(gateway, started, env)
        yield platform
    finally:
        if gateway is not None:
            gateway.stop()
        for service in reversed(list(started.values())):
            service.stop()
