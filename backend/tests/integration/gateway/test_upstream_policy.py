"""A service's registration policy reaches the proxy: its own read timeout, its balancing."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import requests

from support.discovery import echo_command, gateway_command, instances_of
from support.processes import HttpService

from .conftest import gateway_env


def test_a_policy_read_timeout_and_weights_apply_per_service(
    start_service: Callable[..., HttpService], upstream: HttpService, redis_url: str, tmp_path: Path
) -> None:
    heavy = start_service("heavy", echo_command())
    line = (
        "from ascep.gateway.upstreams.policy import UpstreamPolicy\n"
        'service_registry.register_service(name="svc", port=5099, endpoints=["/svc"], '
        f'instances=[("127.0.0.1:{upstream.port}", 1), ("127.0.0.1:{heavy.port}", 3)], '
        'load_balancing="weighted", policy=UpstreamPolicy(read_timeout_s=0.5))'
    )
    gw = start_service("gateway", gateway_command(tmp_path, line), gateway_env(redis_url, upstream))

    pids = Counter(requests.get(f"{gw.url}/api/svc", timeout=5).json()["pid"] for _ in range(40))
    assert pids == {upstream.pid: 10, heavy.pid: 30}  # smooth weighted round robin: exact
    assert [i["weight"] for i in instances_of(gw.url, "svc")] == [1, 3]

    started = time.monotonic()
    late = requests.get(f"{gw.url}/api/svc?delay_ms=3000", timeout=10)
    assert time.monotonic() - started < 2.5  # the policy's 0.5 s, not PROXY_READ_TIMEOUT's 10 s
    assert late.status_code == 504
    details = late.json()["error"]["details"]
    assert details["phase"] == "read"
    assert details["service"] == "svc"
    assert details["instance"] in {f"127.0.0.1:{upstream.port}", f"127.0.0.1:{heavy.port}"}
    # the slow default service keeps the gateway's own timeout
    assert requests.get(f"{gw.url}/api/prices?delay_ms=1000", timeout=10).status_code == 200
