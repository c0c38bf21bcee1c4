"""Deadlines through the real proxy: the registration's timeouts, a client that may only shorten
them (``X-Request-Timeout``), the time left passed on to the service, and 504 phases."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from support.discovery import gateway_command
from support.processes import HttpService

from .conftest import gateway_env

SERVICE_TIMEOUT_S = 1.0
FAST_ENDPOINT_TIMEOUT_S = 0.3
#: Generous for a loaded 2-core machine, yet far below the 3 s the service would take.
SLACK_S = 0.5
LINE = (
    "from ascep.gateway.upstreams.policy import UpstreamPolicy\n"
    'service_registry.register_service(name="svc", port=5099, endpoints=["/svc"], '
    'instances=["{url}"], policy=UpstreamPolicy(timeout_s={timeout}, '
    'endpoint_timeouts={{"/svc/fast": {fast}}}))'
)


@pytest.fixture
def gw(
    start_service: Callable[..., HttpService], upstream: HttpService, redis_url: str, tmp_path: Path
) -> HttpService:
    """A gateway whose ``svc`` (the echo upstream) has a 1 s deadline, ``/svc/fast`` 0.3 s."""
    line = LINE.format(url=upstream.url, timeout=SERVICE_TIMEOUT_S, fast=FAST_ENDPOINT_TIMEOUT_S)
    return start_service("gateway", gateway_command(tmp_path, line), gateway_env(redis_url, upstream))


def timed_get(url: str, **headers: str) -> tuple[requests.Response, float]:
    started = time.perf_counter()
    response = requests.get(url, headers=headers, timeout=10)
    return response, time.perf_counter() - started


def assert_deadline_504(response: requests.Response) -> None:
    assert response.status_code == 504, response.text
    error = response.json()["error"]
    assert (error["code"], error["details"]["phase"]) == ("UPSTREAM_TIMEOUT", "deadline")


def test_the_client_shortens_its_deadline(gw: HttpService) -> None:
    response, seconds = timed_get(f"{gw.url}/api/svc/slow?delay_ms=3000", **{"X-Request-Timeout": "0.3"})
    assert_deadline_504(response)
    assert 0.3 <= seconds < 0.3 + SLACK_S, seconds
    assert response.headers["X-Upstream-Attempts"] == "1", "a timed-out call is not retried"


def test_the_client_cannot_lengthen_the_registration_deadline(gw: HttpService) -> None:
    response, seconds = timed_get(f"{gw.url}/api/svc/slow?delay_ms=3000", **{"X-Request-Timeout": "30"})
    assert_deadline_504(response)
    assert SERVICE_TIMEOUT_S <= seconds < SERVICE_TIMEOUT_S + SLACK_S, seconds


def test_an_endpoint_timeout_beats_the_service_timeout(gw: HttpService) -> None:
    response, seconds = timed_get(f"{gw.url}/api/svc/fast/x?delay_ms=3000")
    assert_deadline_504(response)
    assert FAST_ENDPOINT_TIMEOUT_S <= seconds < FAST_ENDPOINT_TIMEOUT_S + SLACK_S, seconds
    ok, _ = timed_get(f"{gw.url}/api/svc/slow?delay_ms=500")  # within the service's 1 s
    assert ok.status_code == 200


def test_the_service_receives_the_time_left(gw: HttpService) -> None:
    # a client-sent X-Request-Deadline-Ms is replaced, never passed on
    headers = {"X-Request-Timeout": "0.8", "X-Request-Deadline-Ms": "999999"}
    response, _ = timed_get(f"{gw.url}/api/svc/echo", **headers)
    assert response.status_code == 200
    received = response.json()["headers"]
    assert 0 < int(received["X-Request-Deadline-Ms"]) <= 800, received
    assert "X-Request-Timeout" not in received
    default, _ = timed_get(f"{gw.url}/api/svc/echo")
    assert 0 < int(default.json()["headers"]["X-Request-Deadline-Ms"]) <= SERVICE_TIMEOUT_S * 1000


@pytest.mark.parametrize("value", ["abc", "-1", "0", "1e3", "inf", "nan", "1,5", "", "0.0000001"])
def test_a_malformed_request_timeout_is_a_400(gw: HttpService, value: str) -> None:
    response = requests.get(f"{gw.url}/api/svc/echo", headers={"X-Request-Timeout": value}, timeout=5)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"]["code"] == "BAD_REQUEST"
    assert body["error"]["details"]["header"] == "X-Request-Timeout"
    assert body["request_id"]
