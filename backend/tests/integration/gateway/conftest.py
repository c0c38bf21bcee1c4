"""Gateway integration fixtures: a real upstream process, broken servers, gateway processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from support.processes import HttpService
from support.raw_servers import BrokenHttpServer
from support.stack import gateway_env

__all__ = ["gateway_env"]


@pytest.fixture(scope="session")
def broken_upstream() -> Iterator[BrokenHttpServer]:
    """Answers every request with bytes that are not HTTP."""
    server = BrokenHttpServer().start()
    yield server
    server.stop()


@pytest.fixture
def start_gateway(
    start_service: Callable[..., HttpService], redis_url: str, upstream: HttpService
) -> Callable[..., HttpService]:
    """Start a real ``python -m ascep.gateway`` (eventlet) on a free port; stopped after the test."""

    def start(**overrides: str) -> HttpService:
        return start_service("gateway", "ascep.gateway", gateway_env(redis_url, upstream, **overrides))

    return start
