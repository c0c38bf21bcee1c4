"""SIGTERM stops every service cleanly: exit 0 within a bound, loops ended, buffers written.

One scenario per process, each a real ``python -m ascep.<service>`` (or Celery worker) on a free
port with a real Redis: the scenario gives the process something to finish or flush just before
SIGTERM, then checks after the exit that it was finished or flushed.
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from ascep.common import bus, channels
from ascep.common.instruments import DEFAULT_FOREX_SYMBOLS
from support.ports import free_port
from support.processes import HttpService, ManagedProcess
from support.stack import gateway_env
from support.tasks import Workers
from support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.integration

#: SIGTERM to exit, generous for a loaded 2-core machine (every service needs well under a second).
STOP_BOUND_S = 15.0


@dataclass
class Context:
    """What a scenario may use: the test's Redis, an echo upstream, a webhook endpoint, logs."""

    redis_url: str
    redis: redis.Redis
    upstream: HttpService
    webhooks: WebhookReceiver
    start_service: Callable[..., HttpService]
    log_dir: Path


#: A scenario starts its process, prepares work to finish, and returns the check to run after exit.
Scenario = Callable[[Context], tuple[ManagedProcess, Callable[[str], None]]]


def gateway(ctx: Context) -> tuple[ManagedProcess, Callable[[str], None]]:
    """Latency samples recorded just before SIGTERM (nothing flushes on its own) reach Redis."""
    gw = ctx.start_service(
        "gateway", "ascep.gateway", gateway_env(ctx.redis_url, ctx.upstream, LATENCY_FLUSH_INTERVAL="10")
    )
    for _ in range(6):
        assert requests.get(f"{gw.url}/api/prices", timeout=5).status_code == 200

    def after(log: str) -> None:
        assert ctx.redis.zcard(channels.latency_key("price_feed", "/prices")) == 6
        assert "flushed 6 latency samples" in log

    return gw, after


def health(ctx: Context) -> tuple[ManagedProcess, Callable[[str], None]]:
    """The check loop ends (its round finished) before the process exits."""
    closed = f"http://127.0.0.1:{free_port()}"
    env = {"REDIS_URL": ctx.redis_url, "GATEWAY_URL": closed, "HEALTH_CHECK_INTERVAL_S": "0.2"}
    monitor = ctx.start_service("health", "ascep.health", env)
    monitor.wait_until(
        lambda: requests.get(f"{monitor.url}/status", timeout=2).json()["monitor"]["rounds"] >= 2,
        what="checking",
    )

    def after(log: str) -> None:
        assert re.search(r"health monitor stopped after \d+ rounds", log)

    return monitor, after


def price_feed(ctx: Context) -> tuple[ManagedProcess, Callable[[str], None]]:
    """Every record the feed produced is in Redis after the exit: the publisher's buffer was written."""
    env = {"REDIS_URL": ctx.redis_url, "PRICE_SOURCES": "forex", "FOREX_TICK_RATE": "50"}
    feed = ctx.start_service("price_feed", "ascep.price_feed", env)
    feed.wait_until(lambda: ctx.redis.hlen(channels.PRICES_LATEST_KEY) > 0, what="publishing")

    def after(log: str) -> None:
        found = re.search(r"price feed stopped: (\d+) records published, (\d+) dropped", log)
        assert found, "the feed reports what it published"
        published, dropped = int(found[1]), int(found[2])
        assert published > 0
        assert dropped == 0
        stored = sum(ctx.redis.xlen(channels.price_history_key(symbol)) for symbol in DEFAULT_FOREX_SYMBOLS)
        assert stored == published, "every record produced before SIGTERM reached Redis"

    return feed, after


def arbitrage(ctx: Context) -> tuple[ManagedProcess, Callable[[str], None]]:
    """The leader hands its lease over at once instead of letting a standby wait for it to expire."""
    detector = ctx.start_service("arbitrage", "ascep.arbitrage", {"REDIS_URL": ctx.redis_url})
    detector.wait_until(lambda: ctx.redis.exists(channels.ARBITRAGE_LEADER_KEY), what="leading")

    def after(log: str) -> None:
        assert not ctx.redis.exists(channels.ARBITRAGE_LEADER_KEY), "lease released"
        assert "arbitrage listener stopped" in log

    return detector, after


def cep_engine(ctx: Context) -> tuple[ManagedProcess, Callable[[str], None]]:
    """Webhooks still queued at SIGTERM (a slow endpoint, one worker) are delivered before the exit."""
    env = {
        "REDIS_URL": ctx.redis_url,
        "CEP_TICK_INTERVAL_S": "0.05",
        "CEP_WEBHOOK_WORKERS": "1",
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",  # the receiver: loopback must be listed
    }
    cep = ctx.start_service("cep", "ascep.cep", env)
    cep.wait_until(
        lambda: requests.get(f"{cep.url}/status", timeout=2).json()["subscription"]["state"] == "connected",
        what="subscribed",
    )
    ctx.webhooks.delay_s = 1.0
    rule: dict[str, Any] = {
        "name": "BTC above 100",
        "pattern": "threshold",
        "cooldown": 0,
        "conditions": {"field": "price", "op": ">", "value": 100},
        "where": {"field": "symbol", "op": "==", "value": "BTCUSDT"},
        "action": [{"type": "webhook", "url": ctx.webhooks.url, "timeout": 5, "retries": 0}],
    }
    assert requests.post(f"{cep.url}/rules", json=rule, timeout=5).status_code == 201
    now = int(time.time() * 1000)
    for i, px in enumerate((99, 120, 98, 121, 97, 122)):
        bus.publish(
            ctx.redis,
            channels.PRICE_UPDATES,
            {"symbol": "BTCUSDT", "price": px, "source": "test", "ts": now + i},
        )

    def queued() -> int:
        return requests.get(f"{cep.url}/status", timeout=2).json()["actions"]["webhooks"]["queued"]

    # all three alerts fired, deliveries still waiting behind the slow endpoint
    cep.wait_until(
        lambda: ctx.webhooks.attempts + queued() >= 3 and len(ctx.webhooks.bodies) < 3,
        what="webhooks pending",
    )

    def after(log: str) -> None:
        assert len(ctx.webhooks.bodies) == 3, "every queued webhook delivered"
        assert "CEP engine stopped: 3 webhooks delivered" in log

    return cep, after


def tasks(ctx: Context) -> tuple[ManagedProcess, Callable[[str], None]]:
    """The API holds nothing in the background: it simply stops."""
    api = ctx.start_service("tasks", "ascep.tasks", {"REDIS_URL": ctx.redis_url})
    assert requests.get(f"{api.url}/tasks", timeout=5).status_code == 200
    return api, lambda log: None


def celery_worker(ctx: Context) -> tuple[ManagedProcess, Callable[[str], None]]:
    """Celery's warm shutdown: the worker's heartbeat is withdrawn, so it is not counted as live."""
    worker = Workers(ctx.redis_url, ctx.log_dir).start("shutdown")

    def after(log: str) -> None:
        assert not [
            m
            for m in ctx.redis.zrange(channels.WORKER_HEARTBEATS_KEY, 0, -1)
            if str(m).startswith("shutdown@")
        ]

    return worker, after


SCENARIOS: dict[str, Scenario] = {
    "gateway": gateway,
    "health": health,
    "price_feed": price_feed,
    "arbitrage": arbitrage,
    "cep_engine": cep_engine,
    "tasks": tasks,
    "celery_worker": celery_worker,
}


@pytest.fixture
def context(
    redis_url: str,
    redis_client: redis.Redis,
    upstream: HttpService,
    start_service: Callable[..., HttpService],
    tmp_path: Path,
) -> Iterator[Context]:
    """Everything a scenario may need, on the test's (empty) Redis."""
    receiver = WebhookReceiver()
    yield Context(redis_url, redis_client, upstream, receiver, start_service, tmp_path)
    receiver.close()


@pytest.mark.parametrize("service", SCENARIOS)
def test_sigterm_stops_the_service_cleanly(service: str, context: Context) -> None:
    process, after = SCENARIOS[service](context)
    started = time.monotonic()
    code = process.stop(signal.SIGTERM, timeout=STOP_BOUND_S)
    elapsed = time.monotonic() - started
    log = process.log_text()
    assert code == 0, f"exit {code} after {elapsed:.1f}s\n{log[-3000:]}"
    assert elapsed < STOP_BOUND_S
    assert "Traceback" not in log, log[-3000:]
    if service != "celery_worker":
        assert re.search(r"received signal \d+, shutting down", log), log[-3000:]
        assert f"{service} stopped" in log, log[-3000:]
    after(log)
