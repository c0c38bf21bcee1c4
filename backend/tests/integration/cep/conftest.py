"""CEP integration fixtures: the engine as a real process, real Redis, a webhook receiver."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests

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
        service = start_service(name, "ascep.cep", cep_env(redis_url, **overrides))
        service.wait_until(  # /health is already 200 (degraded) while subscribing
            lambda: (
                requests.get(f"{service.url}/status", timeout=2).json()["subscription"]["state"]
                == "connected"
            ),
            timeout=15,
            what="subscribed to the event streams",
        )
        return service

    return start


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A local webhook endpoint, shut down after the test."""
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()
