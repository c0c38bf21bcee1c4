"""Service discovery end to end: real instance processes announce themselves, real gateways route.

The instances are the echo upstream (``tests/support/upstream_server.py``) announcing through
ASCEP's own ``ServiceAnnouncer``; each answer names the process (``pid``) that served it.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests
from redis import Redis

from ascep.common import channels
from support.discovery import announce_env, echo_command, gateway_command, instances_of
from support.polling import wait_for
from support.processes import HttpService

from .conftest import gateway_env

DISCOVERY_ONLY = (
    'service_registry.register_service(name="svc", port=5099, endpoints=["/svc"], '
    'instances=[], load_balancing="round_robin")'
)


def start_gateway(
    start_service: Callable[..., HttpService],
    tmp_path: Path,
    redis_url: str,
    upstream: HttpService,
    name: str,
) -> HttpService:
    return start_service(name, gateway_command(tmp_path, DISCOVERY_ONLY), gateway_env(redis_url, upstream))


def pools(gateway: HttpService) -> list[str]:
    return requests.get(f"{gateway.url}/status", timeout=5).json()["upstreams"]["connection_pools"]


def served_by(gateway: HttpService) -> int | None:
    response = requests.get(f"{gateway.url}/api/svc", timeout=5)
    return response.json()["pid"] if response.status_code == 200 else None


def test_an_instance_routes_within_a_second_of_its_first_heartbeat_and_leaves_at_once_on_sigterm(
    start_service: Callable[..., HttpService],
    upstream: HttpService,
    redis_url: str,
    redis_client: Redis,
    tmp_path: Path,
) -> None:
    gw = start_gateway(start_service, tmp_path, redis_url, upstream, "gateway")
    refused = requests.get(f"{gw.url}/api/svc", timeout=5)
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "NO_HEALTHY_UPSTREAM"

    # A long TTL: leaving within a second can only be the deregistration, never the expiry.
    env = announce_env(redis_url, "svc", DISCOVERY_TTL="30")
    instance = start_service("instance", echo_command(), env, wait_path=None)
    wait_for(lambda: redis_client.hlen(channels.discovery_instances_key("svc")), timeout=20, interval=0.005)
    first_heartbeat = time.monotonic()
    wait_for(lambda: served_by(gw) == instance.pid, timeout=10, interval=0.01)
    assert time.monotonic() - first_heartbeat < 1.0

    (listed,) = instances_of(gw.url, "svc")
    assert listed["source"] == "discovered"
    assert listed["version"] == "test-1"
    assert listed["url"] == instance.url
    assert listed["healthy"] is True
    assert listed["breaker_state"] == "closed"
    assert listed["last_heartbeat"] is not None
    assert instance.url in pools(gw)  # one keep-alive pool per address, opened for this instance

    stopped_at = time.monotonic()
    instance.stop(signal.SIGTERM)
    wait_for(lambda: instances_of(gw.url, "svc") == [], timeout=10, interval=0.01)
    assert time.monotonic() - stopped_at < 1.0
    assert requests.get(f"{gw.url}/api/svc", timeout=5).json()["error"]["code"] == "NO_HEALTHY_UPSTREAM"
    assert redis_client.hlen(channels.discovery_instances_key("svc")) == 0
    wait_for(lambda: instance.url not in pools(gw), timeout=10)  # and closed when it left


class SteadyLoad:
    """One client thread per gateway, each recording (time, pid or error instance) per answer."""

    def __init__(self, gateways: list[HttpService]) -> None:
        self.answers: list[tuple[float, str, int | str]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(gw,), daemon=True) for gw in gateways]

    def __enter__(self) -> SteadyLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _run(self, gateway: HttpService) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            try:
                response = session.get(f"{gateway.url}/api/svc", timeout=5)
            except requests.RequestException:
                continue
            body = response.json()
            served = (
                body["pid"] if response.status_code == 200 else body["error"]["details"].get("instance", "")
            )
            self.answers.append((time.monotonic(), gateway.name, served))
            time.sleep(0.01)  # the steady load's pace (~100 calls/s per gateway), not synchronisation


def test_a_killed_instance_gets_no_new_calls_from_either_gateway_within_ttl_plus_one_second(
    start_service: Callable[..., HttpService], upstream: HttpService, redis_url: str, tmp_path: Path
) -> None:
    ttl = 3.0
    gateways = [start_gateway(start_service, tmp_path, redis_url, upstream, f"gateway{n}") for n in (1, 2)]
    instances = [
        start_service(f"instance{n}", echo_command(), announce_env(redis_url, "svc"), wait_path=None)
        for n in (1, 2, 3)
    ]
    for gw in gateways:
        wait_for(lambda gw=gw: len(instances_of(gw.url, "svc")) == 3, timeout=20)
    victim = instances[2]
    victim_id = next(i["instance_id"] for i in instances_of(gateways[0].url, "svc") if i["url"] == victim.url)

    with SteadyLoad(gateways) as load:
        wait_for(lambda: sum(1 for *_, served in load.answers if served == victim.pid) >= 4, timeout=10)
        killed_at = time.monotonic()
        victim.stop(signal.SIGKILL)
        settled = killed_at + ttl + 1.0
        wait_for(
            lambda: sum(1 for t, *_ in load.answers if t > settled + 1.5) >= 40, timeout=30, interval=0.05
        )

    late = [(gw, served) for t, gw, served in load.answers if t > settled]
    assert {gw for gw, _ in late} == {"gateway1", "gateway2"}
    assert {served for _, served in late} == {instances[0].pid, instances[1].pid}, late[:20]
    for gw in gateways:
        assert victim_id not in {i["instance_id"] for i in instances_of(gw.url, "svc")}


def test_a_name_not_in_the_registry_is_refused(
    start_service: Callable[..., HttpService], upstream: HttpService, redis_url: str, tmp_path: Path
) -> None:
    gw = start_gateway(start_service, tmp_path, redis_url, upstream, "gateway")
    start_service("rogue", echo_command(), announce_env(redis_url, "hijack"), wait_path=None)
    start_service("honest", echo_command(), announce_env(redis_url, "svc"), wait_path=None)
    wait_for(lambda: len(instances_of(gw.url, "svc")) == 1, timeout=20)
    status = wait_for(
        lambda: (
            (s := requests.get(f"{gw.url}/status", timeout=5).json())["upstreams"]["discovery"][
                "refused_services"
            ]
            and s
        ),
        timeout=10,
    )
    assert "hijack" in status["upstreams"]["discovery"]["refused_services"]
    names = {s["name"] for s in requests.get(f"{gw.url}/api/services", timeout=5).json()["services"]}
    assert "hijack" not in names
    assert requests.get(f"{gw.url}/api/hijack", timeout=5).status_code == 404


def test_a_url_list_is_several_static_instances_each_with_its_own_pool(
    start_service: Callable[..., HttpService], upstream: HttpService, redis_url: str
) -> None:
    second = start_service("second", echo_command())
    both = f"{upstream.url},{second.url}"
    gw = start_service("gateway", "ascep.gateway", gateway_env(redis_url, upstream, PRICE_FEED_URL=both))
    pids: set[int] = set()

    def both_served() -> bool:
        pids.add(requests.get(f"{gw.url}/api/prices", timeout=5).json()["pid"])
        return len(pids) == 2

    wait_for(both_served)
    assert pids == {upstream.pid, second.pid}
    listed = instances_of(gw.url, "price_feed")
    assert [(i["url"], i["source"], i["weight"]) for i in listed] == [
        (upstream.url, "static", 1),
        (second.url, "static", 1),
    ]
    assert {upstream.url, second.url} <= set(pools(gw))
