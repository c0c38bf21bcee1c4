"""A hung service cannot take the gateway down: its bulkhead fills, the excess fails at once.

The hung service is a real process stopped with SIGSTOP: the kernel still completes TCP
handshakes for it, so every call reaches "waiting for the answer" and would sit there for the
whole read timeout. 2 000 calls are piled on it while another service is probed, one fresh
connection per probe, as a new client would arrive.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

import support
from support.polling import wait_for
from support.processes import HttpService
from support.stack import UPSTREAM_SCRIPT

PILE_UP_SCRIPT = Path(support.__file__).parent / "pile_up.py"
PILE = 2000
# Requests started per second: a 13 s pile-up, with 1 000+ calls outstanding after 7 s without a
# bulkhead; slow enough that the load generator itself does not starve a loaded 2-core machine.
PILE_RATE = 150
DEFAULT_LIMIT = 64  # PROXY_MAX_CONCURRENCY's default
PROBE_P99_S = 0.1


@pytest.fixture
def hung_service(start_service: Callable[..., HttpService]) -> Iterator[HttpService]:
    """A real echo service process; the test stops it with SIGSTOP, and it is always resumed."""
    service = start_service("hung", [sys.executable, str(UPSTREAM_SCRIPT)])
    yield service
    os.kill(service.pid, signal.SIGCONT)  # a stopped process would not see SIGTERM


def metric(gw: HttpService, line_start: str) -> float:
    text = requests.get(f"{gw.url}/metrics", timeout=5).text
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start)]
    assert values, f"{line_start} not in /metrics"
    return values[0]


def probe(url: str) -> float:
    """One call on a fresh connection; its duration (a failure counts as the whole timeout)."""
    started = time.perf_counter()
    try:
        ok = requests.get(url, headers={"Connection": "close"}, timeout=5).status_code == 200
    except requests.RequestException:
        ok = False
    return time.perf_counter() - started if ok else 5.0


def test_a_hung_service_cannot_starve_the_others(
    start_gateway: Callable[..., HttpService], hung_service: HttpService, tmp_path: Path
) -> None:
    # The bulkhead alone: the first wave of read timeouts would otherwise open the service's
    # circuit breaker (and failed health checks mark it unhealthy), which then refuse the rest of
    # the pile with CIRCUIT_OPEN / NO_HEALTHY_UPSTREAM instead.
    gw = start_gateway(
        ARBITRAGE_URL=hung_service.url, BREAKER_MIN_VOLUME="1000000", UPSTREAM_ACTIVE_HEALTH_CHECKS="false"
    )
    assert requests.get(f"{gw.url}/api/signals", timeout=5).status_code == 200
    assert requests.get(f"{gw.url}/api/prices", timeout=5).status_code == 200

    os.kill(hung_service.pid, signal.SIGSTOP)
    log = (tmp_path / "pile_up.log").open("w")
    pile = subprocess.Popen(
        [sys.executable, str(PILE_UP_SCRIPT), str(gw.port), "/api/signals", str(PILE), str(PILE_RATE), "20"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        durations: list[float] = []
        pile_up_ends = time.monotonic() + PILE / PILE_RATE + 1
        while time.monotonic() < pile_up_ends:
            durations.append(probe(f"{gw.url}/api/prices"))
        assert metric(gw, 'ascep_gateway_service_in_flight{service="arbitrage"}') == DEFAULT_LIMIT
        assert requests.get(f"{gw.url}/health", timeout=5).status_code == 200
    finally:
        os.kill(hung_service.pid, signal.SIGCONT)
        try:
            output, _ = pile.communicate(timeout=30)
        finally:
            pile.kill()
            log.close()
    result = json.loads(output.strip().splitlines()[-1])

    p99 = statistics.quantiles(durations, n=100)[98]
    slowest = [round(d * 1000) for d in sorted(durations)[-5:]]
    assert p99 <= PROBE_P99_S, f"p99 {p99 * 1000:.0f} ms over {len(durations)} probes; slowest {slowest} ms"
    # At most two waves hold the slots: the first times out (504) after PROXY_READ_TIMEOUT while the
    # pile still goes on, the second is answered (200) once the service is resumed.
    outcomes = result["outcomes"]
    assert outcomes.get("503", 0) >= PILE - 2 * DEFAULT_LIMIT, outcomes
    assert set(outcomes) <= {"200", "503", "504"}, outcomes  # nothing dropped or left hanging
    assert result["rejected_p95_s"] < 1.0, "excess calls fail at once"
    overloaded = metric(gw, 'ascep_gateway_service_overloaded_total{service="arbitrage"}')
    assert overloaded == outcomes["503"]

    # Resumed, the service is reachable again and every slot has been given back.
    wait_for(
        lambda: requests.get(f"{gw.url}/api/signals", timeout=5).status_code == 200,
        timeout=15,
        message="the resumed service answers through the gateway",
    )
    wait_for(
        lambda: metric(gw, 'ascep_gateway_service_in_flight{service="arbitrage"}') == 0,
        timeout=15,
        message="every bulkhead slot released",
    )
