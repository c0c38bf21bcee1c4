"""Every ASCEP service process announces itself for discovery while it runs, and leaves on SIGTERM."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable

import pytest
from redis import Redis

from ascep import __version__
from ascep.common import channels
from support.polling import wait_for
from support.processes import HttpService

SERVICES = {
    "health": ("ascep.health", {}),
    "price_feed": ("ascep.price_feed", {"PRICE_SOURCES": "simulated,forex"}),
    "arbitrage": ("ascep.arbitrage", {}),
    "cep_engine": ("ascep.cep", {}),
    "tasks": ("ascep.tasks", {}),
}


@pytest.mark.parametrize("name", list(SERVICES))
def test_every_service_registers_itself_and_deregisters_on_sigterm(
    start_service: Callable[..., HttpService], redis_url: str, redis_client: Redis, name: str
) -> None:
    module, extra = SERVICES[name]
    env = {"REDIS_URL": redis_url, "GATEWAY_URL": "http://127.0.0.1:9", "DISCOVERY_TTL": "30", **extra}
    service = start_service(name, module, env, wait_path=None)
    key = channels.discovery_instances_key(name)
    raw = wait_for(lambda: next(iter(redis_client.hvals(key)), None), timeout=30)
    record = json.loads(raw)
    assert record["service"] == name
    assert record["base_url"] == service.url
    assert record["version"] == __version__
    assert record["metadata"]["pid"] == service.pid
    assert record["instance_id"].endswith(f":{service.port}:{service.pid}")
    assert redis_client.zscore(channels.discovery_expiry_key(name), record["instance_id"]) is not None

    stopped = time.monotonic()
    service.stop(signal.SIGTERM)
    assert redis_client.hlen(key) == 0
    assert time.monotonic() - stopped < 10  # the 30 s TTL never ran out: the process deregistered
