"""A hung instance among three, through the real proxy: its calls time out, the others stay fast,
and health routing takes it out of selection — no more calls reach it (apisix#4649)."""

from __future__ import annotations

import os
import signal
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from support.discovery import echo_command, gateway_command, instances_of
from support.polling import wait_for
from support.processes import HttpService

from .conftest import gateway_env

READ_TIMEOUT_S = 0.5
THREE = (
    'service_registry.register_service(name="svc", port=5099, endpoints=["/svc"], '
    'instances=[{instances}], load_balancing="round_robin")'
)


@pytest.fixture
def three(start_service: Callable[..., HttpService]) -> Iterator[list[HttpService]]:
    """Three echo instances; the test may SIGSTOP one, which is always resumed afterwards."""
    instances = [start_service(f"echo{i}", echo_command()) for i in range(3)]
    yield instances
    for instance in instances:
        os.kill(instance.pid, signal.SIGCONT)


def call(gateway: HttpService) -> tuple[int, float, int | None]:
    """(status, seconds, pid of the instance that answered)."""
    started = time.perf_counter()
    response = requests.get(f"{gateway.url}/api/svc", timeout=10)
    pid = response.json().get("pid") if response.status_code == 200 else None
    return response.status_code, time.perf_counter() - started, pid


def test_a_hung_instance_times_out_then_leaves_selection(
    start_service: Callable[..., HttpService],
    three: list[HttpService],
    redis_url: str,
    tmp_path: Path,
) -> None:
    line = THREE.format(instances=", ".join(f'"127.0.0.1:{i.port}"' for i in three))
    env = {**gateway_env(redis_url, three[0]), "PROXY_READ_TIMEOUT": str(READ_TIMEOUT_S)}
    gw = start_service("gateway", gateway_command(tmp_path, line), env)
    served = Counter(call(gw)[2] for _ in range(30))
    assert set(served) == {i.pid for i in three}, served  # round robin over all three

    hung = three[1]
    os.kill(hung.pid, signal.SIGSTOP)
    outcomes: list[tuple[int, float, int | None]] = [call(gw) for _ in range(30)]
    timeouts = [seconds for status, seconds, _ in outcomes if status == 504]
    fast = [seconds for status, seconds, _ in outcomes if status == 200]
    assert timeouts, "calls sent to the hung instance time out"
    assert all(READ_TIMEOUT_S * 0.9 <= s < READ_TIMEOUT_S + 2 for s in timeouts), timeouts
    assert statistics.median(fast) < 0.2, "the other instances stay fast"

    # Active checks (fall 3, every 2 s) or outlier ejection take it out of selection.
    wait_for(
        lambda: not next(u for u in instances_of(gw.url, "svc") if u["url"] == hung.url)["routable"],
        timeout=20,
        message="the hung instance is no longer routable",
    )
    after = [call(gw) for _ in range(60)]
    assert all(status == 200 for status, _, _ in after), Counter(status for status, _, _ in after)
    assert {pid for _, _, pid in after} == {three[0].pid, three[2].pid}, "no call reaches the hung one"
