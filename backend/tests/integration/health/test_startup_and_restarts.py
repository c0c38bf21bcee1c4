"""Start-up is not downtime, and a crash quicker than a health check is still seen.

The monitor starts before the services (as under supervisord): a target not listening yet is
``starting`` for ``HEALTH_STARTUP_GRACE_S`` and costs no availability. Every service records its
start in Redis, so a real process killed and restarted between two checks shows a restart.
"""

from __future__ import annotations

import signal
from collections.abc import Callable

import pytest
import redis
import requests

from ascep.common import channels, heartbeats
from ascep.common.starts import record_start, restarts_of
from ascep.common.timeutil import now_ms
from support.monitor import mirror_registry, monitor_env, watched
from support.polling import wait_for
from support.ports import free_port
from support.processes import HttpService

pytestmark = pytest.mark.integration


@pytest.mark.timeout(90)
def test_a_target_that_comes_up_after_the_monitor_has_full_availability(
    start_service: Callable[..., HttpService], redis_url: str, redis_client: redis.Redis
) -> None:
    port = free_port()
    mirror_registry(redis_client, {"arbitrage": f"http://127.0.0.1:{port}"})
    monitor = start_service("health", "ascep.health", monitor_env(redis_url, free_port(), grace_s=60))
    starting = wait_for(
        lambda: (w := watched(monitor, "arbitrage")) and w["status"] == "starting" and w,
        timeout=15,
        message="a target not listening yet is starting",
    )
    assert starting["reason"] == "not up yet: unreachable"
    wait_for(
        lambda: requests.get(f"{monitor.url}/monitor", timeout=2).json()["rounds"] >= 5,
        timeout=15,
        message="several rounds while it is down",
    )

    start_service("arbitrage", "ascep.arbitrage", {"REDIS_URL": redis_url}, port=port)
    up = wait_for(
        lambda: (w := watched(monitor, "arbitrage")) and w["status"] in ("healthy", "degraded") and w,
        timeout=20,
        message="the target up",
    )
    assert up["availability"]["1h"] == 100.0
    assert up["error_rate"] == 0.0
    assert up["restarts"] == {"1h": 0, "24h": 0}  # a first start is no restart


@pytest.mark.timeout(90)
def test_a_crash_between_two_checks_shows_as_a_restart(
    start_service: Callable[..., HttpService], redis_url: str, redis_client: redis.Redis
) -> None:
    port = free_port()
    first = start_service("arbitrage", "ascep.arbitrage", {"REDIS_URL": redis_url}, port=port)
    mirror_registry(redis_client, {"arbitrage": first.url})
    # One round now, the next one an hour later: the crash below falls between two checks.
    monitor = start_service("health", "ascep.health", monitor_env(redis_url, free_port(), interval_s=3600))
    before = wait_for(
        lambda: (w := watched(monitor, "arbitrage")) and w["last_checked"] and w["last_start"] and w,
        timeout=15,
        message="the first round checked the target",
    )
    assert before["restarts"] == {"1h": 0, "24h": 0}
    assert before["last_start"]["pid"] == first.pid

    first.stop(signal.SIGKILL)
    again = start_service("arbitrage-again", "ascep.arbitrage", {"REDIS_URL": redis_url}, port=port)
    after = wait_for(
        lambda: (w := watched(monitor, "arbitrage")) and w["restarts"]["1h"] >= 1 and w,
        timeout=15,
        message="the restart counted",
    )
    assert after["last_checked"] == before["last_checked"]  # no check saw the crash
    assert after["status"] == before["status"]
    assert after["restarted_recently"] is True
    assert after["last_start"]["pid"] == again.pid
    assert after["last_restart"] is not None


def test_a_worker_records_its_start_with_its_first_heartbeat(redis_client: redis.Redis) -> None:
    heartbeats.beat(redis_client, "w1@test")
    heartbeats.beat(redis_client, "w1@test")
    assert redis_client.hexists(channels.SERVICE_STARTS_KEY, channels.WORKER_SERVICE)
    assert (
        restarts_of(redis_client, [channels.WORKER_SERVICE], now_ms())[channels.WORKER_SERVICE].last_day == 0
    )

    assert record_start(redis_client, channels.WORKER_SERVICE, pid=4242) is True  # another process
    counted = restarts_of(redis_client, [channels.WORKER_SERVICE], now_ms())[channels.WORKER_SERVICE]
    assert (counted.last_hour, counted.last_day) == (1, 1)
    assert counted.last_start is not None
    assert counted.last_start["pid"] == 4242
