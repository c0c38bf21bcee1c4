"""Health routing across gateway processes: real instances, real Redis, real processes.

Each "gateway" here is ``support/routing_node.py``: the :class:`HealthRouting` a gateway process
holds, in its own process. Three echo upstreams are the instances; one of them is hung with
SIGSTOP. Kong#9588 (health not shared between workers) and apisix#4649 (traffic still sent to an
unhealthy node) are the complaints these tests hold us to.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from support.polling import wait_for
from support.processes import HttpService
from support.stack import UPSTREAM_SCRIPT

pytestmark = pytest.mark.integration

NODE_SCRIPT = Path(__file__).parents[2] / "support" / "routing_node.py"
Start = Callable[..., HttpService]


@pytest.fixture
def instances(start_service: Start) -> list[HttpService]:
    """Three real upstream instances of one service."""
    return [start_service(f"instance{i}", [sys.executable, str(UPSTREAM_SCRIPT)]) for i in range(3)]


@contextlib.contextmanager
def hung(*services: HttpService) -> Iterator[None]:
    """SIGSTOP the instances (they accept connections and never answer); SIGCONT afterwards."""
    for service in services:
        os.kill(service.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for service in services:
            os.kill(service.pid, signal.SIGCONT)


def node(
    start_service: Start, name: str, redis_url: str, instances: list[HttpService], **env: str
) -> HttpService:
    settings = {"REDIS_URL": redis_url, "INSTANCES": ",".join(i.url for i in instances), **env}
    return start_service(name, [sys.executable, str(NODE_SCRIPT)], settings)


def state(gateway: HttpService) -> dict[str, Any]:
    return requests.get(gateway.url + "/state", timeout=3).json()["instances"]


def routable(gateway: HttpService) -> set[str]:
    return {name for name, s in state(gateway).items() if s["routable"]}


def first_seen(
    gateways: list[HttpService], holds: Callable[[HttpService], bool], timeout: float
) -> list[float]:
    """When ``holds`` first became true for each gateway (polled together), in the same order."""
    seen: dict[int, float] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < len(gateways):
        assert time.monotonic() < deadline, f"only {len(seen)} of {len(gateways)} gateways agreed"
        for index, gateway in enumerate(gateways):
            if index not in seen and holds(gateway):
                seen[index] = time.monotonic()
        time.sleep(0.01)  # the polling interval of this deadline loop
    return [seen[i] for i in range(len(gateways))]


def test_a_hung_instance_is_taken_out_by_every_gateway_process_within_a_second(
    start_service: Start, redis_url: str, instances: list[HttpService]
) -> None:
    gateways = [node(start_service, f"gateway{g}", redis_url, instances) for g in "ab"]
    all_three = {"i0", "i1", "i2"}
    for gateway in gateways:
        wait_for(lambda g=gateway: routable(g) == all_three, timeout=10, message="all instances routable")
    wait_for(
        lambda: all(s["health"]["status"] == "healthy" for s in state(gateways[0]).values()),
        timeout=10,
        message="first health checks",
    )

    with hung(instances[1]):
        times = first_seen(gateways, lambda g: "i1" not in routable(g), timeout=15)
        assert max(times) - min(times) < 1.0  # Kong#9588: one decision, honoured everywhere
        for gateway in gateways:  # apisix#4649: nothing left that would still send it traffic
            seen = state(gateway)
            assert routable(gateway) == {"i0", "i2"}
            assert seen["i1"]["health"]["status"] == "unhealthy"
            assert seen["i1"]["healthy"] is False
        checker = next(g for g in gateways if state(g)["i1"]["health"]["checks"])
        failed = [c for c in state(checker)["i1"]["health"]["checks"] if not c["ok"]]
        assert len(failed) >= 3  # fall: three failed checks, each a timeout
        assert "0.3" in (failed[0]["detail"] or "")
        # The fall in the rise/fall history: decided by the checking process, adopted by the other.
        decided = {g.name: state(g)["i1"]["health"] for g in gateways}
        assert sorted(h["checked_here"] for h in decided.values()) == [False, True]
        for health in decided.values():
            assert health["transitions"][0]["to"] == "unhealthy"
            assert health["transitions"][0]["decided"] == ("here" if health["checked_here"] else "shared")

        late = node(start_service, "gateway_c", redis_url, instances)  # learns it from Redis at start
        wait_for(lambda: routable(late) == {"i0", "i2"}, timeout=2, message="late gateway has the state")

    for gateway in [*gateways, late]:  # rise: back once it answers twice in a row
        wait_for(lambda g=gateway: routable(g) == all_three, timeout=10, message="instance back")


def test_an_ejection_decided_by_one_process_is_honoured_by_the_other_and_the_share_holds(
    start_service: Start, redis_url: str, instances: list[HttpService]
) -> None:
    quiet = {"HC_INTERVAL": "60", "CALL_TIMEOUT": "0.3"}  # passive detection only
    first, second = (node(start_service, f"gateway{g}", redis_url, instances, **quiet) for g in "ab")

    with hung(instances[1], instances[2]):
        for _ in range(5):  # five real calls to the hung instance, each timing out
            assert requests.post(first.url + "/call?instance=i1", timeout=5).json()["failed"]
        decided = time.monotonic()
        wait_for(lambda: "i1" not in routable(second), timeout=5, message="ejection shared")
        assert time.monotonic() - decided < 1.0
        for gateway in (first, second):
            outlier = state(gateway)["i1"]["outlier"]
            assert outlier["ejected"]
            assert outlier["times_ejected"] == 1
            assert 25 < outlier["ejected_for_seconds"] <= 30

        for _ in range(6):  # envoy#3263: a second of three may not go out at 34 %
            requests.post(second.url + "/call?instance=i2", timeout=5)
        for gateway in (first, second):
            assert routable(gateway) == {"i0", "i2"}
