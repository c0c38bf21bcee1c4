"""``python -m ascep.bench breaker``: how fast the gateway answers while a circuit breaker is open.

:func:`measure_open_breaker` is the measurement (``./ascep bench upstreams`` reuses it for its
"breaker open" row): ``count`` sequential calls on one keep-alive connection against a gateway
whose breaker for the path's instance is already open; every answer must be 503
``CIRCUIT_OPEN``. It reports client-side p50/p99 and, from the gateway's own
``ascep_gateway_circuit_refusal_seconds`` histogram, the share of refusals decided within 5 ms.

:func:`main` stands the scene up: a private Redis, a gateway pinned to CPU 0 whose
``price_feed`` address refuses connections (a dead instance), and trips the breaker with
``BREAKER_MIN_VOLUME`` calls first.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import requests

from ascep.bench._servers import Processes, free_port, wait_port

TARGET_P99_MS = 5.0


def measure_open_breaker(gateway_url: str, path: str = "/api/prices", count: int = 2000) -> dict[str, Any]:
    """Client-side p50/p99 (ms) of ``count`` refusals, and the gateway's own share within 5 ms."""
    before = _refusal_histogram(gateway_url)
    parts = urlsplit(gateway_url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=10)
    durations: list[float] = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            durations.append((time.perf_counter() - started) * 1000)
            if response.status != 503 or json.loads(body)["error"]["code"] != "CIRCUIT_OPEN":
                raise RuntimeError(f"expected 503 CIRCUIT_OPEN, got {response.status}: {body[:200]!r}")
    finally:
        connection.close()
    after = _refusal_histogram(gateway_url)
    total = after["count"] - before["count"]
    within = after["le_0.005"] - before["le_0.005"]
    quantiles = statistics.quantiles(durations, n=100)
    return {
        "requests": count,
        "p50_ms": statistics.median(durations),
        "p99_ms": quantiles[98],
        "server_within_5ms": within / total if total else None,
    }


def _refusal_histogram(gateway_url: str) -> dict[str, float]:
    text = requests.get(f"{gateway_url}/metrics", timeout=10).text
    values = {"count": 0.0, "le_0.005": 0.0}
    for line in text.splitlines():
        if line.startswith("ascep_gateway_circuit_refusal_seconds_count"):
            values["count"] = float(line.rsplit(" ", 1)[1])
        elif line.startswith('ascep_gateway_circuit_refusal_seconds_bucket{le="0.005"}'):
            values["le_0.005"] = float(line.rsplit(" ", 1)[1])
    return values


def trip(gateway_url: str, path: str, volume: int) -> None:
    """Fail ``volume`` calls (the instance refuses connections) so the breaker opens."""
    for _ in range(volume):
        requests.get(f"{gateway_url}{path}", timeout=10)
    answer = requests.get(f"{gateway_url}{path}", timeout=10)
    if answer.status_code != 503 or answer.json()["error"]["code"] != "CIRCUIT_OPEN":
        raise RuntimeError(f"the breaker did not open: {answer.status_code} {answer.text[:200]}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ascep.bench breaker")
    parser.add_argument("--requests", type=int, default=2000, help="refusals measured")
    args = parser.parse_args(argv)
    gateway_cpu = 0 if (os.cpu_count() or 1) >= 2 else None
    if gateway_cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {1})  # the client on the other core
    procs = Processes()
    try:
        port = free_port()
        env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "REDIS_URL": procs.redis(),
            "PRICE_FEED_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens: a dead instance
            "BREAKER_OPEN_SECONDS": "3600",
            "LOG_LEVEL": "WARNING",
            # rate limits have their own row in `bench gateway`; every client here is one address
            "RATE_LIMIT": "off",
            "RATE_LIMIT_SOCKETIO": "off",
        }
        procs.start([sys.executable, "-m", "ascep.gateway"], env=env, cpu=gateway_cpu)
        wait_port(port)
        url = f"http://127.0.0.1:{port}"
        trip(url, "/api/prices", volume=20)
        result = measure_open_breaker(url, count=args.requests)
    finally:
        procs.stop_all()
    ok = result["p99_ms"] <= TARGET_P99_MS
    share = result["server_within_5ms"]
    sys.stdout.write(
        "\nBreaker open — answers while an instance's circuit breaker is open (503 CIRCUIT_OPEN)\n\n"
        f"  requests            {result['requests']}\n"
        f"  p50 (client)        {result['p50_ms']:.2f} ms\n"
        f"  p99 (client)        {result['p99_ms']:.2f} ms   target <= {TARGET_P99_MS:g} ms "
        f"{'PASS' if ok else 'MISS'}\n"
        f"  within 5 ms (gateway-side)  {share:.2%}\n"
        f"\n(measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n"
    )
    return 0 if ok else 1
