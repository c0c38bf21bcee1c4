"""Shared fixtures: a private redis-server and real processes that are always cleaned up."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest
import redis

from support.processes import HttpService
from support.redis_server import RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server for the whole session, on a free 127.0.0.1 port."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """URL of the session's Redis, emptied before the test (restarted first if a test stopped it)."""
    if redis_server.process is None:
        redis_server.start()
    with redis_server.client() as client:
        client.flushall()
    return redis_server.url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client of the test's (empty) Redis."""
    client = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=5)
    yield client
    client.close()


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[Callable[..., HttpService]]:
    """Start real HTTP service processes; every one is stopped when the test ends.

    ``start_service(name, "ascep.gateway", env={...})`` runs ``python -m ascep.gateway`` on a free
    port and waits until ``/health`` answers (pass ``wait_path=None`` to skip waiting).
    """
    started: list[HttpService] = []

    def start(
        name: str,
        module_or_args: str | Sequence[str],
        env: Mapping[str, str] | None = None,
        *,
        port: int | None = None,
        wait_path: str | None = "/health",
        timeout: float = 30.0,
    ) -> HttpService:
        service = HttpService(name, module_or_args, env or {}, tmp_path, port=port)
        started.append(service)
        service.start()
        if wait_path:
            service.wait_healthy(wait_path, timeout=timeout)
        return service

    yield start
    for service in reversed(started):
        service.stop()
