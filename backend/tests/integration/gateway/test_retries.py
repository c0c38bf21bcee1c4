"""Retries through the real proxy: never a second POST without a key, another instance for the
retry, and a retry budget that holds across two gateway processes under a 100 % failing service.

Every count is taken where it cannot lie: upstream-side (a raw socket server, the flaky service's
own counter) against what the client sent.
"""

from __future__ import annotations

import base64
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

import support
from support.discovery import gateway_command
from support.processes import HttpService
from support.raw_servers import ResettingServer

from .conftest import gateway_env

FLAKY_SCRIPT = Path(support.__file__).parent / "flaky_upstream.py"
#: Outlier ejection and breakers off: only the retry logic decides where calls go.
NO_EJECTION = (
    "from ascep.gateway.upstreams.policy import UpstreamPolicy, OutlierPolicy, BreakerPolicy\n"
    "POLICY = UpstreamPolicy(load_balancing='round_robin', "
    "outlier=OutlierPolicy(consecutive_failures=10000), "
    "breaker=BreakerPolicy(minimum_volume=1000000, failure_rate=1.0))\n"
)
SVC = (
    NO_EJECTION + 'service_registry.register_service(name="svc", port=5099, endpoints=["/svc"], '
    "instances=[{instances}], policy=POLICY)"
)


def _svc_line(*urls: str) -> str:
    return SVC.format(instances=", ".join(f'"{u}"' for u in urls))


@pytest.fixture
def resetting() -> Iterator[ResettingServer]:
    """Reads each request with its body, counts it, then resets the connection."""
    server = ResettingServer().start()
    yield server
    server.stop()


def _flaky(start_service: Callable[..., HttpService], status: int, name: str = "flaky") -> HttpService:
    service = start_service(name, [sys.executable, str(FLAKY_SCRIPT)])
    requests.post(f"{service.url}/control/mode?status={status}", timeout=5).raise_for_status()
    return service


def _calls(service: HttpService) -> int:
    return int(requests.get(f"{service.url}/control/calls", timeout=5).json()["calls"])


def _gateway(
    start_service: Callable[..., HttpService],
    redis_url: str,
    tmp_path: Path,
    first: HttpService,
    line: str,
    name: str = "gateway",
    **env: str,
) -> HttpService:
    # no active health checks: the counting servers should see proxied calls only
    settings = {"UPSTREAM_ACTIVE_HEALTH_CHECKS": "false", **env}
    return start_service(name, gateway_command(tmp_path, line), {**gateway_env(redis_url, first), **settings})


def test_a_post_without_idempotency_key_reaches_a_resetting_upstream_exactly_once(
    start_service: Callable[..., HttpService],
    upstream: HttpService,
    resetting: ResettingServer,
    redis_url: str,
    tmp_path: Path,
) -> None:
    gw = _gateway(start_service, redis_url, tmp_path, upstream, _svc_line(resetting.url))
    for i in range(5):
        answer = requests.post(f"{gw.url}/api/svc/charge", data=f"order-{i}", timeout=10)
        assert answer.status_code == 502, answer.text
        assert answer.json()["error"]["code"] == "BAD_GATEWAY"
        assert answer.headers["X-Upstream-Attempts"] == "1"
    assert resetting.requests == 5, "each POST reached the service exactly once"
    assert resetting.bodies == [f"order-{i}".encode() for i in range(5)]

    # The same failure on a GET (safe to repeat) is retried: proof the server does reset.
    before = resetting.requests
    answer = requests.get(f"{gw.url}/api/svc/orders", timeout=10)
    assert answer.status_code == 502
    assert answer.headers["X-Upstream-Attempts"] == "3"
    assert resetting.requests - before == 3


def test_a_post_with_idempotency_key_is_retried_to_another_instance(
    start_service: Callable[..., HttpService],
    upstream: HttpService,
    resetting: ResettingServer,
    redis_url: str,
    tmp_path: Path,
) -> None:
    gw = _gateway(start_service, redis_url, tmp_path, upstream, _svc_line(resetting.url, upstream.url))
    attempts: Counter[str] = Counter()
    for i in range(10):
        body = f"order-{i}".encode()
        answer = requests.post(
            f"{gw.url}/api/svc/charge", data=body, headers={"Idempotency-Key": f"k{i}"}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["method"] == "POST"
        assert answer.json()["body_b64"] == base64.b64encode(body).decode(), "body replayed"
        attempts[answer.headers["X-Upstream-Attempts"]] += 1
    # round robin: about half the calls tried the resetting instance first, then the echo one
    assert attempts["2"] == resetting.requests >= 1, (attempts, resetting.requests)
    assert set(attempts) <= {"1", "2"}, "a retry never went back to the resetting instance"


def test_retries_go_to_a_different_instance(
    start_service: Callable[..., HttpService],
    upstream: HttpService,
    redis_url: str,
    tmp_path: Path,
) -> None:
    failing = _flaky(start_service, 503)
    line = _svc_line(failing.url, upstream.url)
    # a budget large enough for every retry: this test is about where retries go
    gw = _gateway(start_service, redis_url, tmp_path, upstream, line, RETRY_BUDGET_PERCENT="200")
    answers = [requests.get(f"{gw.url}/api/svc/x", timeout=10) for _ in range(80)]
    retried = [a for a in answers if a.headers["X-Upstream-Attempts"] != "1"]
    assert len(retried) >= 20, "round robin sent many first attempts to the failing instance"
    to_other = [a for a in retried if a.status_code == 200 and a.headers["X-Upstream-Attempts"] == "2"]
    assert len(to_other) >= 0.95 * len(retried), Counter(
        (a.status_code, a.headers["X-Upstream-Attempts"]) for a in retried
    )
    assert _calls(failing) == len(retried), "no retry went back to the failing instance"
    metrics = requests.get(f"{gw.url}/metrics", timeout=5).text
    assert f'ascep_gateway_retries_total{{outcome="ok",service="svc"}} {float(len(to_other))}' in metrics


SYNC_INTERVAL_S = 0.1
LOAD_SECONDS = 3.0


def _load(urls: list[str], seconds: float, threads: int) -> tuple[int, float, Counter[str]]:
    """GETs from ``threads`` clients over ``urls`` for ``seconds``: (requests, elapsed, attempts)."""
    sent = [0] * threads
    attempts: Counter[str] = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(index: int) -> None:
        with requests.Session() as session:
            n = 0
            while time.monotonic() < stop_at:
                answer = session.get(urls[(index + n) % len(urls)], timeout=10)
                n += 1
                with lock:
                    attempts[answer.headers.get("X-Upstream-Attempts", "?")] += 1
            sent[index] = n

    started = time.monotonic()
    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=seconds + 30)
    return sum(sent), time.monotonic() - started, attempts


def test_retry_budget_bounds_retries_across_two_gateways_under_total_failure(
    start_service: Callable[..., HttpService],
    upstream: HttpService,
    redis_url: str,
    tmp_path: Path,
) -> None:
    failing = [_flaky(start_service, 503, f"flaky{i}") for i in range(2)]
    line = _svc_line(*(f.url for f in failing))
    env = {"RETRY_BUDGET_SYNC_INTERVAL": str(SYNC_INTERVAL_S), "RETRY_MAX_ATTEMPTS": "3"}
    gateways = [
        _gateway(start_service, redis_url, tmp_path, upstream, line, f"gateway{i}", **env) for i in range(2)
    ]
    sent, elapsed, attempts = _load([f"{g.url}/api/svc/x" for g in gateways], LOAD_SECONDS, threads=6)
    upstream_calls = sum(_calls(f) for f in failing)
    retries = upstream_calls - sent

    ratio, per_second, processes = 0.20, 10.0, 2
    rate = sent / elapsed
    # The budget: 20 % of the requests plus 10/s over the seconds with traffic (+2: whole-second
    # buckets at both ends). Tolerance (see retry_budget's docstring): what the other process may
    # spend of newly accrued budget before it sees this one's spending — one sync interval plus a
    # generous round trip of accrual, plus one whole-second step of the per-second allowance.
    budget = ratio * sent + per_second * (elapsed + 2)
    tolerance = (processes - 1) * (ratio * rate * (SYNC_INTERVAL_S + 0.1) + per_second) + processes
    assert sent >= 100, f"the load was too small to mean anything ({sent} requests)"
    assert 0 < retries <= budget + tolerance, (sent, retries, budget, tolerance, attempts)
    assert retries < sent, "without a budget every request would have been retried twice"

    exhausted = 0.0
    for gw in gateways:
        for line_ in requests.get(f"{gw.url}/metrics", timeout=5).text.splitlines():
            if line_.startswith('ascep_gateway_retry_budget_exhausted_total{service="svc"}'):
                exhausted += float(line_.split()[-1])
    assert exhausted > 0, "the budget ran out and said so in /metrics"
