"""CEP integration fixtures: the engine as a real process, real Redis, a webhook receiver."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from support.processes import HttpService
from support.webhook_receiver import WebhookReceiver


def cep_env(redis_url: str, **overrides: str) -> dict[str, str]:
    env = {"REDIS_URL": redis_url, "CEP_TICK_INTERVAL_S": "0.05", "LOG_LEVEL": "INFO"}
    env.update(overrides)
    return env


@pytest.fixture
def start_cep(start_service: Callable[..., HttpService], redis_url: str) -> Callable[..., HttpService]:
    """Start ``python -m ascep.cep`` on a free port (stopped after the test); waits until subscribed."""

    def start(name: str = "cep", **overrides: str) -> HttpService:
        return start_service(name, "ascep.cep", cep_env(redis_url, **overrides))

    return start


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A local webhook endpoint, shut down after the test."""
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()
