"""Rows of ``./ascep bench upstreams`` for traffic splits: proxied throughput with a split vs without.

Two gateways launched the same way in front of the same two fast upstreams, registered as one
service with instances of versions ``v1`` and ``v2``: ``split-off`` has no split (selection over
both), ``split-on`` a 90/10 split set through the admin API (every call hashes its key, picks the
arm's instances and is counted per arm). Target: at most 5 % less throughput when nothing fails.

Kept apart from :mod:`.upstreams` (which lists these rows in ``EXTRA_TARGETS``) and typed against
a protocol of the context, so neither module imports the other's internals.
"""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Callable
from typing import Any, Protocol

import requests

from ascep.bench._servers import Processes, free_port, wait_port

THROUGHPUT_LOSS_MAX = 0.05

_GATEWAY_TWO_VERSIONS = textwrap.dedent(
    """
    from ascep.common.asyncmode import prepare_async_mode
    prepare_async_mode()
    from ascep.gateway.routing import Instance
    from ascep.service_registry import service_registry
    service_registry.register_service(
        name=%r, port=1, endpoints=["/bench"],
        instances=[Instance(%r, version="v1"), Instance(%r, version="v2")],
    )
    from ascep.gateway.__main__ import main
    main()
    """
)

Row = dict[str, float]
Check = Callable[[dict[str, Row]], tuple[str, str, bool, str]]


class Context(Protocol):
    procs: Processes
    redis_url: str
    gateway_cpu: int | None
    load_cpu: int | None
    args: Any


def split_rows(ctx: Context) -> list[tuple[str, str, int, list[Check]]]:
    """``(name, url, connections, checks)`` of the ``split-off`` and ``split-on`` rows."""
    upstreams = [f"127.0.0.1:{ctx.procs.fast_upstream(cpu=ctx.load_cpu)}" for _ in range(2)]
    # Splits are shared by every gateway on one Redis: each gateway names the service its own way.
    off = _gateway(ctx, "bench_off", upstreams)
    on = _gateway(ctx, "bench_on", upstreams)
    split = {"arms": [{"version": "v1", "basis_points": 9000}, {"version": "v2", "basis_points": 1000}]}
    requests.put(
        f"http://127.0.0.1:{on}/api/gateway/splits/bench_on", json=split, timeout=5
    ).raise_for_status()
    conns = ctx.args.connections
    return [
        ("split-off", f"http://127.0.0.1:{off}/api/bench", conns, []),
        ("split-on", f"http://127.0.0.1:{on}/api/bench", conns, [_split_cost]),
    ]


def _gateway(ctx: Context, service: str, upstreams: list[str]) -> int:
    port = free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "REDIS_URL": ctx.redis_url,
        "LOG_LEVEL": "WARNING",
    }
    script = _GATEWAY_TWO_VERSIONS % (service, upstreams[0], upstreams[1])
    ctx.procs.start([sys.executable, "-c", script], env=env, cpu=ctx.gateway_cpu)
    wait_port(port)
    return port


def _split_cost(rows: dict[str, Row]) -> tuple[str, str, bool, str]:
    ratio = rows["split-on"]["rps"] / rows["split-off"]["rps"]
    return (
        "throughput with a 90/10 split vs without",
        f"{(ratio - 1) * 100:+.1f} %",
        ratio >= 1 - THROUGHPUT_LOSS_MAX,
        f">= -{THROUGHPUT_LOSS_MAX * 100:.0f} %",
    )
