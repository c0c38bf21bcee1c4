"""Latency statistics: exact counts and percentiles, cluster-wide, and robust to Redis outages."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import requests

from support.polling import wait_for
from support.processes import HttpService
from support.redis_server import RedisServer

from .conftest import gateway_env


def latency(gw: HttpService, **params: str) -> requests.Response:
    return requests.get(f"{gw.url}/api/latency", params=params, timeout=5)


def count_is(gw: HttpService, expected: int, **params: str) -> Callable[[], bool]:
    def probe() -> bool:
        response = latency(gw, **params)
        return response.status_code == 200 and response.json()["overall"]["count"] == expected

    return probe


def test_known_delays_give_exact_count_and_matching_percentiles(
    start_gateway: Callable[..., HttpService],
) -> None:
    gw = start_gateway()
    plan = [10] * 20 + [60] * 15 + [200] * 5  # nearest rank: p50 -> 10 ms, p95/p99 -> 200 ms
    for delay in plan:
        assert requests.get(f"{gw.url}/api/prices/q?delay_ms={delay}", timeout=5).status_code == 200
    for _ in range(3):
        assert requests.get(f"{gw.url}/api/sources?status=500", timeout=5).status_code == 500
    wait_for(count_is(gw, len(plan) + 3), timeout=10, message="all samples flushed")

    report = latency(gw).json()
    prices = report["services"]["price_feed"]["endpoints"]["/prices"]
    assert prices["count"] == len(plan)
    assert prices["error_count"] == 0
    overhead = 40  # generous: the gateway adds ~1 ms, but this machine is shared and noisy
    assert 10 <= prices["min_ms"] < 10 + overhead
    assert 10 <= prices["p50_ms"] < 10 + overhead
    assert 200 <= prices["p95_ms"] < 200 + overhead
    assert 200 <= prices["p99_ms"] <= prices["max_ms"] < 200 + overhead
    expected_avg = sum(plan) / len(plan)
    assert expected_avg <= prices["avg_ms"] < expected_avg + overhead

    sources = report["services"]["price_feed"]["endpoints"]["/sources"]
    assert (sources["count"], sources["error_count"], sources["error_rate"]) == (3, 3, 1.0)
    assert report["overall"]["count"] == len(plan) + 3
    assert report["overall"]["error_rate"] == pytest.approx(3 / 43, abs=1e-6)
    assert report["percentile_method"] == "nearest-rank"
    # Since when data exists: the first sample's time, for a quiet dashboard to say so.
    assert report["data_since_ts"] <= time.time() * 1000
    assert report["data_since"].startswith(time.strftime("%Y-", time.gmtime()))
    assert latency(gw, service="arbitrage").json()["data_since"] is None

    only_sources = latency(gw, endpoint="/sources").json()
    assert only_sources["overall"]["count"] == 3
    assert list(only_sources["services"]["price_feed"]["endpoints"]) == ["/sources"]
    assert latency(gw, service="arbitrage").json()["overall"]["count"] == 0

    series = latency(gw, window="3600", buckets="60").json()
    assert series["bucket_seconds"] == 60
    assert len(series["series"]) == 60
    assert sum(b["overall"]["count"] for b in series["series"]) == len(plan) + 3
    assert sum(b["services"]["price_feed"]["error_count"] for b in series["series"]) == 3
    assert max(b["overall"]["max_ms"] or 0 for b in series["series"]) == report["overall"]["max_ms"]
    starts = [b["start_ts"] for b in series["series"]]
    assert starts == sorted(starts)
    assert starts[-1] <= time.time() * 1000 < starts[-1] + 60_000
    assert latency(gw, buckets="0").status_code == 400


def test_errors_of_the_gateway_itself_are_timed(start_gateway: Callable[..., HttpService]) -> None:
    gw = start_gateway()
    assert requests.get(f"{gw.url}/api/rules", timeout=5).status_code == 503
    wait_for(count_is(gw, 1, service="cep_engine"), timeout=10, message="refused call recorded")
    summary = latency(gw, service="cep_engine").json()["overall"]
    assert summary["error_count"] == 1


def test_bad_filters_are_rejected(start_gateway: Callable[..., HttpService]) -> None:
    gw = start_gateway(LATENCY_RETENTION_SECONDS="600")
    for params, status in [
        ({"service": "nope"}, 404),
        ({"endpoint": "/nope"}, 404),
        ({"service": "arbitrage", "endpoint": "/prices"}, 404),
        ({"window": "abc"}, 400),
        ({"window": "0"}, 400),
        ({"window": "601"}, 400),
    ]:
        response = latency(gw, **params)
        assert response.status_code == status, params
        assert response.json()["error"]["code"] in ("NOT_FOUND", "BAD_REQUEST")
    assert latency(gw, window="600").json()["window_seconds"] == 600


def test_window_excludes_older_samples(start_gateway: Callable[..., HttpService]) -> None:
    gw = start_gateway()
    requests.get(f"{gw.url}/api/prices", timeout=5)
    wait_for(count_is(gw, 1), timeout=10, message="sample flushed")
    wait_for(count_is(gw, 0, window="1"), timeout=5, message="sample ages out of a 1 s window")
    assert latency(gw).json()["overall"]["count"] == 1


def test_prometheus_histogram(start_gateway: Callable[..., HttpService]) -> None:
    gw = start_gateway()
    for _ in range(4):
        requests.get(f"{gw.url}/api/prices/x", timeout=5)
    requests.get(f"{gw.url}/api/rules", timeout=5)
    expected_ok = (
        'ascep_gateway_request_duration_seconds_count{endpoint="/prices",method="GET",'
        'service="price_feed",status_class="2xx"} 4.0'
    )
    expected_err = (
        'ascep_gateway_request_duration_seconds_count{endpoint="/rules",method="GET",'
        'service="cep_engine",status_class="5xx"} 1.0'
    )

    def scraped() -> bool:
        text = requests.get(f"{gw.url}/metrics", timeout=5).text
        return expected_ok in text and expected_err in text

    wait_for(scraped, timeout=10, message="histogram exposes the calls")


def test_two_gateways_on_one_redis_report_the_union(start_gateway: Callable[..., HttpService]) -> None:
    first, second = start_gateway(), start_gateway()
    for _ in range(7):
        requests.get(f"{first.url}/api/prices", timeout=5)
    for _ in range(5):
        requests.get(f"{second.url}/api/prices", timeout=5)
    wait_for(count_is(first, 12), timeout=10, message="union visible on the first gateway")
    wait_for(count_is(second, 12), timeout=10, message="union visible on the second gateway")


def test_redis_outage_loses_no_request_and_stats_catch_up(
    start_service: Callable[..., HttpService], upstream: HttpService, tmp_path
) -> None:
    redis = RedisServer(tmp_path / "redis", persistent=True).start()
    try:
        gw = start_service("gateway", "ascep.gateway", gateway_env(redis.url, upstream))
        statuses: list[int] = []
        stop = threading.Event()

        def traffic() -> None:
            with requests.Session() as session:
                while not stop.is_set():
                    statuses.append(session.get(f"{gw.url}/api/prices", timeout=5).status_code)

        worker = threading.Thread(target=traffic)
        worker.start()
        try:
            wait_for(lambda: len(statuses) >= 30, timeout=10, message="traffic before the outage")
            redis.stop(kill=True)
            during = len(statuses)
            wait_for(lambda: len(statuses) >= during + 50, timeout=10, message="traffic during the outage")
            down = latency(gw)
            assert down.status_code == 503
            assert down.json()["error"]["code"] == "DEPENDENCY_UNAVAILABLE"
            assert requests.get(f"{gw.url}/ready", timeout=5).status_code == 503
            redis.start()
            after = len(statuses)
            wait_for(lambda: len(statuses) >= after + 30, timeout=10, message="traffic after the outage")
        finally:
            stop.set()
            worker.join(timeout=10)
        assert set(statuses) == {200}, "no proxied request failed while Redis was down"
        wait_for(count_is(gw, len(statuses)), timeout=20, message="every sample eventually in Redis")
        assert requests.get(f"{gw.url}/ready", timeout=5).status_code == 200
        assert requests.get(f"{gw.url}/status", timeout=5).json()["latency_recorder"]["dropped"] == 0
    finally:
        redis.stop()


def test_shutdown_flushes_buffered_samples(
    start_gateway: Callable[..., HttpService], redis_client, redis_url: str
) -> None:
    gw = start_gateway(LATENCY_FLUSH_INTERVAL="10")  # nothing flushes on its own during the test
    for _ in range(6):
        requests.get(f"{gw.url}/api/prices", timeout=5)
    assert gw.stop() == 0
    from ascep.common import channels

    assert redis_client.zcard(channels.latency_key("price_feed", "/prices")) == 6
