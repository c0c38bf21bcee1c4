"""Gateway integration fixtures: a real upstream process, broken servers, gateway processes."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import support
from support.ports import free_port
from support.processes import HttpService
from support.raw_servers import BrokenHttpServer

UPSTREAM_SCRIPT = Path(support.__file__).parent / "upstream_server.py"


@pytest.fixture(scope="session")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpService]:
    """A real HTTP service process that echoes requests and misbehaves on demand."""
    service = HttpService(
        "upstream", [sys.executable, str(UPSTREAM_SCRIPT)], {}, tmp_path_factory.mktemp("upstream")
    )
    service.start().wait_healthy()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def broken_upstream() -> Iterator[BrokenHttpServer]:
    """Answers every request with bytes that are not HTTP."""
    server = BrokenHttpServer().start()
    yield server
    server.stop()


def gateway_env(redis_url: str, upstream: HttpService, **overrides: str) -> dict[str, str]:
    """Gateway settings for tests: price_feed is the echo upstream, the rest refuse connections."""
    closed = f"http://127.0.0.1:{free_port()}"
    env = {
        "REDIS_URL": redis_url,
        "PRICE_FEED_URL": upstream.url,
        "HEALTH_URL": closed,
        "ARBITRAGE_URL": closed,
        "CEP_ENGINE_URL": closed,
        "TASKS_URL": closed,
        "LATENCY_FLUSH_INTERVAL": "0.05",
        "HEALTH_POLL_INTERVAL": "1",
        "HEALTH_CHECK_TIMEOUT": "1",
        "LOG_LEVEL": "INFO",
    }
    env.update(overrides)
    return env


@pytest.fixture
def start_gateway(
    start_service: Callable[..., HttpService], redis_url: str, upstream: HttpService
) -> Callable[..., HttpService]:
    """Start a real ``python -m ascep.gateway`` (eventlet) on a free port; stopped after the test."""

    def start(**overrides: str) -> HttpService:
        return start_service("gateway", "ascep.gateway", gateway_env(redis_url, upstream, **overrides))

    return start
