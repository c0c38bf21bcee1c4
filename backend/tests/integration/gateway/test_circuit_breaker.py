"""Circuit breakers across real gateway processes on one Redis, in front of a real flaky service.

The service (``support/flaky_upstream.py``) counts every call it receives, so "exactly three
calls reached it while half-open" is counted where it matters, not inferred from the gateway.
"""

from __future__ import annotations

import asyncio
import json
import signal
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
import requests
from prometheus_client.parser import text_string_to_metric_families

import support
from ascep.common import channels
from support.polling import wait_for
from support.processes import HttpService
from support.sio import RecordingClient
from support.stack import gateway_env

FLAKY_SCRIPT = Path(support.__file__).parent / "flaky_upstream.py"
FAST_BREAKER = {"BREAKER_MIN_VOLUME": "5", "BREAKER_HALF_OPEN_PROBES": "3", "LOG_LEVEL": "WARNING"}


@pytest.fixture
def flaky(start_service: Callable[..., HttpService]) -> HttpService:
    """A real service process whose answers the test switches between failing and healthy."""
    return start_service("flaky", [sys.executable, str(FLAKY_SCRIPT)])


@pytest.fixture
def start_gateway(
    start_service: Callable[..., HttpService], redis_url: str, flaky: HttpService
) -> Callable[..., HttpService]:
    """A real ``python -m ascep.gateway`` routing ``/api/prices`` to the flaky service."""
    count = 0

    def start(**overrides: str) -> HttpService:
        nonlocal count
        count += 1
        env = gateway_env(redis_url, flaky, **{**FAST_BREAKER, **overrides})
        return start_service(f"gateway_{count}", "ascep.gateway", env)

    return start


def set_mode(service: HttpService, status: int, delay_ms: int = 0) -> None:
    requests.post(f"{service.url}/control/mode?status={status}&delay_ms={delay_ms}", timeout=5)


def calls(service: HttpService) -> int:
    return int(requests.get(f"{service.url}/control/calls", timeout=5).json()["calls"])


def instance(service: HttpService) -> str:
    return f"127.0.0.1:{service.port}"


def breaker(gw: HttpService, service: HttpService) -> dict:
    status = requests.get(f"{gw.url}/status", timeout=5).json()
    return status["circuit_breakers"]["breakers"].get(f"price_feed/{instance(service)}", {"state": "closed"})


def metric(gw: HttpService, name: str, **labels: str) -> float:
    """The sample ``name`` whose labels include ``labels`` (0 when absent) from ``/metrics``."""
    text = requests.get(f"{gw.url}/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                return float(sample.value)
    return 0.0


def is_circuit_open(response: requests.Response) -> bool:
    return response.status_code == 503 and response.json()["error"]["code"] == "CIRCUIT_OPEN"


def trip(gw: HttpService, service: HttpService, volume: int = 5) -> None:
    set_mode(service, 500)
    for _ in range(volume):
        assert requests.get(f"{gw.url}/api/prices", timeout=5).status_code == 500
    assert is_circuit_open(requests.get(f"{gw.url}/api/prices", timeout=5))


async def _one(port: int, results: list[tuple[int, str, float]]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.perf_counter()
    writer.write(f"GET /api/prices HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
    raw = await asyncio.wait_for(reader.read(), 30)
    elapsed = time.perf_counter() - started
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    code = json.loads(body)["error"]["code"] if status >= 400 else ""
    results.append((status, code, elapsed))


def flood(ports: list[int], count: int) -> list[tuple[int, str, float]]:
    """``count`` concurrent calls spread over ``ports``, each on its own connection."""
    results: list[tuple[int, str, float]] = []

    async def main() -> None:
        await asyncio.gather(*(_one(ports[i % len(ports)], results) for i in range(count)))

    asyncio.run(main())
    return results


def test_half_open_lets_exactly_the_probe_budget_through_two_gateways(
    start_gateway: Callable[..., HttpService], flaky: HttpService
) -> None:
    a = start_gateway(BREAKER_OPEN_SECONDS="2")
    b = start_gateway(BREAKER_OPEN_SECONDS="2")
    trip(a, flaky)
    wait_for(lambda: breaker(b, flaky)["state"] == "open", timeout=5, message="B honours A's open")
    open_until = time.time() + 2.5  # an upper bound: A opened before trip() returned
    set_mode(flaky, 200, delay_ms=3000)  # recovered, but slow: the probes are still out during the flood
    requests.post(f"{flaky.url}/control/reset", timeout=5)
    wait_for(lambda: time.time() >= open_until, timeout=5, message="the open period is over")

    results = flood([a.port, b.port], 200)

    assert calls(flaky) == 3
    outcomes = sorted({(status, code) for status, code, _ in results})
    assert outcomes == [(200, ""), (503, "CIRCUIT_OPEN")], outcomes
    assert sum(status == 200 for status, _, _ in results) == 3
    refused = sorted(elapsed for status, _, elapsed in results if status == 503)
    p99 = refused[int(len(refused) * 0.99) - 1]
    assert p99 < 1.0, f"refusals p99 {p99 * 1000:.0f} ms client-side (200 connections at once)"
    for gw in (a, b):  # the three probes succeeded: closed everywhere, calls flow again
        wait_for(lambda gw=gw: breaker(gw, flaky)["state"] == "closed", timeout=5, message="closed")
    set_mode(flaky, 200)
    assert requests.get(f"{b.url}/api/prices", timeout=5).status_code == 200
    labels = {"service": "price_feed", "instance": instance(flaky)}
    transitions = {
        (previous, new): sum(
            metric(gw, "ascep_gateway_circuit_transitions_total", **labels, **{"from": previous, "to": new})
            for gw in (a, b)
        )
        for previous, new in [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]
    }
    assert transitions == {("closed", "open"): 1, ("open", "half_open"): 1, ("half_open", "closed"): 1}


def test_a_transition_in_one_gateway_is_honoured_by_the_other_within_a_second(
    start_gateway: Callable[..., HttpService], flaky: HttpService
) -> None:
    a = start_gateway(BREAKER_OPEN_SECONDS="30")
    b = start_gateway(BREAKER_OPEN_SECONDS="30")
    assert requests.get(f"{b.url}/api/prices", timeout=5).status_code == 200
    watcher = RecordingClient(b.url)
    try:
        trip(a, flaky)
        opened_at = time.monotonic()
        before = calls(flaky)

        def refused_by_b() -> list[requests.Response]:  # a 503 Response is falsy: wrap it
            response = requests.get(f"{b.url}/api/prices", timeout=5)
            return [response] if is_circuit_open(response) else []

        [response] = wait_for(
            refused_by_b,
            timeout=3,
            interval=0.01,
            message="B refuses with CIRCUIT_OPEN",
        )
        honoured_after = time.monotonic() - opened_at
        assert honoured_after < 1.0, f"B honoured A's transition after {honoured_after:.2f} s"
        assert calls(flaky) == before  # B stopped calling the instance without failing itself
        body = response.json()
        assert body["error"]["details"]["service"] == "price_feed"
        assert body["error"]["details"]["instance"] == instance(flaky)
        assert 1 <= int(response.headers["Retry-After"]) <= 30
        assert body["request_id"] == response.headers["X-Request-ID"]

        [event] = watcher.wait_events(channels.EVENT_CIRCUIT_STATE, 1, timeout=5)
        assert event["service"] == "price_feed"
        assert event["instance"] == instance(flaky)
        assert (event["state"], event["previous"]) == ("open", "closed")
        assert (event["failure_rate"], event["volume"]) == (1, 5)
        assert "5 of 5 calls failed" in event["reason"]
        assert event["at"].endswith("Z")
    finally:
        watcher.client.disconnect()
    labels = {"service": "price_feed", "instance": instance(flaky)}
    assert metric(a, "ascep_gateway_circuit_state", **labels) == 2
    assert metric(b, "ascep_gateway_circuit_state", **labels) == 2
    opened = {**labels, "from": "closed", "to": "open"}
    counted = [metric(gw, "ascep_gateway_circuit_transitions_total", **opened) for gw in (a, b)]
    assert counted == [1, 0]  # counted where it was decided
    assert breaker(b, flaky)["state"] == "open"


def test_an_open_breaker_answers_in_under_5_ms(
    start_gateway: Callable[..., HttpService], flaky: HttpService
) -> None:
    gw = start_gateway(BREAKER_OPEN_SECONDS="120")
    trip(gw, flaky)
    before = calls(flaky)
    session = requests.Session()
    durations = []
    for _ in range(300):
        started = time.perf_counter()
        response = session.get(f"{gw.url}/api/prices", timeout=5)
        durations.append(time.perf_counter() - started)
        assert is_circuit_open(response)
    assert calls(flaky) == before
    total = metric(gw, "ascep_gateway_circuit_refusal_seconds_count")
    within_5ms = metric(gw, "ascep_gateway_circuit_refusal_seconds_bucket", le="0.005")
    assert total == 301
    assert within_5ms / total >= 0.99, f"{within_5ms:.0f} of {total:.0f} refusals within 5 ms (server-side)"
    client_p50 = statistics.median(durations)
    assert client_p50 < 0.05, f"client-side median {client_p50 * 1000:.1f} ms"


def test_nineteen_failures_of_nineteen_never_open_with_a_minimum_volume_of_20(
    start_gateway: Callable[..., HttpService], flaky: HttpService
) -> None:
    gw = start_gateway(BREAKER_MIN_VOLUME="20")
    set_mode(flaky, 500)
    for _ in range(19):
        assert requests.get(f"{gw.url}/api/prices", timeout=5).status_code == 500
    assert breaker(gw, flaky)["state"] == "closed"
    assert requests.get(f"{gw.url}/api/prices", timeout=5).status_code == 500  # the 20th still goes out
    assert calls(flaky) == 20
    assert is_circuit_open(requests.get(f"{gw.url}/api/prices", timeout=5))
    assert calls(flaky) == 20


def test_a_gateway_that_missed_the_message_converges_from_the_shared_hash(
    start_gateway: Callable[..., HttpService], flaky: HttpService, redis_client: redis.Redis
) -> None:
    gw = start_gateway(BREAKER_RESYNC_INTERVAL="1")
    assert requests.get(f"{gw.url}/api/prices", timeout=5).status_code == 200
    now_ms = int(time.time() * 1000)
    record = {"state": "open", "gen": now_ms, "open_until": now_ms + 60_000, "reason": "decided elsewhere"}
    # written as a script would, but without the PUBLISH: the message is "missed"
    redis_client.hset(channels.BREAKERS_KEY, f"price_feed/{instance(flaky)}", json.dumps(record))
    started = time.monotonic()
    wait_for(
        lambda: is_circuit_open(requests.get(f"{gw.url}/api/prices", timeout=5)),
        timeout=5,
        message="the resync adopts the open record",
    )
    assert time.monotonic() - started < 2.5  # one resync interval, with a loaded machine's slack


def test_an_open_breaker_does_not_outlive_its_time_when_the_gateway_that_opened_it_dies(
    start_gateway: Callable[..., HttpService], flaky: HttpService
) -> None:
    a = start_gateway(BREAKER_OPEN_SECONDS="2")
    b = start_gateway(BREAKER_OPEN_SECONDS="2")
    trip(a, flaky)
    wait_for(lambda: breaker(b, flaky)["state"] == "open", timeout=5, message="B honours A's open")
    a.stop(signal.SIGKILL)
    set_mode(flaky, 200)
    wait_for(
        lambda: requests.get(f"{b.url}/api/prices", timeout=5).status_code == 200
        and breaker(b, flaky)["state"] == "closed",
        timeout=10,
        message="B probes the instance after the open period (3 probes) and closes the breaker",
    )
    assert calls(flaky) >= 8  # 5 failures, then B's probes: no more waiting on the dead gateway
