"""The proxy carries requests and answers faithfully, and fails with the right envelope."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator

import pytest
import requests

from support.processes import HttpService
from support.raw_servers import BrokenHttpServer
from support.redis_server import RedisServer

from .conftest import gateway_env

MAX_BODY = 6_000_000


@pytest.fixture(scope="module")
def gw(
    redis_server: RedisServer,
    upstream: HttpService,
    broken_upstream: BrokenHttpServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[HttpService]:
    """One gateway for the module: price_feed -> echo upstream, arbitrage -> garbage server."""
    env = gateway_env(
        redis_server.url,
        upstream,
        ARBITRAGE_URL=broken_upstream.url,
        PROXY_READ_TIMEOUT="0.5",
        MAX_BODY_BYTES=str(MAX_BODY),
    )
    service = HttpService(
        "gateway", [sys.executable, "-m", "ascep.gateway"], env, tmp_path_factory.mktemp("gw")
    )
    service.start().wait_healthy()
    yield service
    service.stop()


def echo(response: requests.Response) -> dict:
    assert response.headers.get("X-Upstream") == "yes", response.text
    return response.json()


def assert_envelope(response: requests.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "127.0.0.1:" not in body["error"]["message"], "internal URLs never leak"
    assert "Traceback" not in response.text
    return body


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_every_method_path_and_query_survive(gw: HttpService, method: str) -> None:
    body = b'{"qty": 3}' if method in ("POST", "PUT", "PATCH") else b""
    response = requests.request(
        method,
        f"{gw.url}/api/prices/BTCUSDT/history?limit=5&a=1&a=2&sym=EUR%2FUSD",
        data=body,
        headers={"Content-Type": "application/json"} if body else {},
        timeout=5,
    )
    assert response.status_code == 200
    seen = echo(response)
    assert seen["method"] == method
    assert seen["path"] == "/prices/BTCUSDT/history"
    assert seen["query"] == "limit=5&a=1&a=2&sym=EUR%2FUSD"
    assert base64.b64decode(seen["body_b64"]) == body


def test_head_is_forwarded_without_body(gw: HttpService) -> None:
    response = requests.head(f"{gw.url}/api/prices", timeout=5)
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["Content-Length"]) > 0


def test_path_encoding_is_preserved(gw: HttpService) -> None:
    seen = echo(requests.get(f"{gw.url}/api/prices/EUR%2FUSD/a%20b", timeout=5))
    assert seen["raw_path"] == "/prices/EUR%2FUSD/a%20b"


def test_headers_end_to_end_and_hop_by_hop(gw: HttpService) -> None:
    response = requests.get(
        f"{gw.url}/api/prices?set_cookie=1",
        headers={
            "X-Custom": "kept",
            "Authorization": "Bearer abc",
            "Connection": "keep-alive, X-Hop",
            "X-Hop": "must-vanish",
            "Proxy-Authorization": "Basic secret",
            "Keep-Alive": "timeout=5",
        },
        timeout=5,
    )
    seen = echo(response)["headers"]
    assert seen["X-Custom"] == "kept"
    assert seen["Authorization"] == "Bearer abc"
    for dropped in ("X-Hop", "Proxy-Authorization", "Keep-Alive"):
        assert dropped not in seen
    assert seen["X-Forwarded-For"] == "127.0.0.1"
    assert seen["X-Forwarded-Proto"] == "http"
    assert seen["X-Forwarded-Host"] == f"127.0.0.1:{gw.port}"
    cookies = [v for k, v in response.raw.headers.items() if k.lower() == "set-cookie"]
    assert cookies == ["a=1; Path=/", "b=2; Path=/"], "repeated response headers stay separate"


def test_cookies_from_one_client_never_reach_another(gw: HttpService) -> None:
    requests.get(f"{gw.url}/api/prices?set_cookie=1", timeout=5)
    seen = echo(requests.get(f"{gw.url}/api/prices", timeout=5))["headers"]
    assert "Cookie" not in seen


@pytest.mark.parametrize("status", [201, 404, 418, 500, 503])
def test_upstream_status_and_body_pass_through_unchanged(gw: HttpService, status: int) -> None:
    response = requests.get(f"{gw.url}/api/prices/x?status={status}", timeout=5)
    assert response.status_code == status
    seen = echo(response)
    assert "error" not in seen, "upstream bodies are never re-wrapped"
    assert seen["path"] == "/prices/x"


def test_request_id_kept_forwarded_and_returned(gw: HttpService) -> None:
    response = requests.get(f"{gw.url}/api/prices", headers={"X-Request-ID": "trade-42"}, timeout=5)
    assert response.headers["X-Request-ID"] == "trade-42"
    assert echo(response)["headers"]["X-Request-Id"] == "trade-42"
    correlated = requests.get(f"{gw.url}/api/prices", headers={"X-Correlation-ID": "corr-7"}, timeout=5)
    assert correlated.headers["X-Request-ID"] == "corr-7"
    malformed = requests.get(f"{gw.url}/api/prices", headers={"X-Request-ID": "bad id!"}, timeout=5)
    minted = malformed.headers["X-Request-ID"]
    assert minted != "bad id!"
    assert len(minted) == 32
    assert echo(malformed)["headers"]["X-Request-Id"] == minted


def test_large_bodies_stream_both_ways(gw: HttpService) -> None:
    payload = bytes(range(256)) * 20_000  # 5.12 MB
    seen = echo(requests.post(f"{gw.url}/api/prices/upload", data=payload, timeout=20))
    assert base64.b64decode(seen["body_b64"]) == payload
    download = requests.get(f"{gw.url}/api/prices/big?bytes=3000000", timeout=20)
    assert download.status_code == 200
    assert len(download.content) == 3_000_000


def test_chunked_request_body_is_forwarded(gw: HttpService) -> None:
    parts = [b"alpha,", b"beta,", b"gamma"]
    seen = echo(requests.post(f"{gw.url}/api/prices/chunked", data=iter(parts), timeout=5))
    assert base64.b64decode(seen["body_b64"]) == b"".join(parts)


def test_unknown_endpoint_is_404(gw: HttpService) -> None:
    body = assert_envelope(requests.get(f"{gw.url}/api/unknown/thing", timeout=5), 404, "NOT_FOUND")
    assert body["error"]["details"] == {"path": "/api/unknown/thing"}


def test_refused_connection_is_503(gw: HttpService) -> None:
    body = assert_envelope(requests.get(f"{gw.url}/api/rules", timeout=5), 503, "SERVICE_UNAVAILABLE")
    details = body["error"]["details"]
    assert details["service"] == "cep_engine"
    assert details["instance"] == gw.env["CEP_ENGINE_URL"].split("://", 1)[1]  # the instance called
    assert set(details) == {"service", "instance"}


def test_upstream_timeout_is_504(gw: HttpService) -> None:
    body = assert_envelope(
        requests.get(f"{gw.url}/api/prices/slow?delay_ms=2000", timeout=5), 504, "UPSTREAM_TIMEOUT"
    )
    assert body["error"]["details"]["phase"] == "read"


def test_broken_upstream_response_is_502(gw: HttpService) -> None:
    assert_envelope(requests.get(f"{gw.url}/api/signals", timeout=5), 502, "BAD_GATEWAY")


def test_body_over_the_limit_is_413(gw: HttpService) -> None:
    too_big = b"x" * (MAX_BODY + 1)
    assert_envelope(requests.post(f"{gw.url}/api/prices", data=too_big, timeout=10), 413, "PAYLOAD_TOO_LARGE")
    chunked = requests.post(f"{gw.url}/api/prices", data=iter([too_big[:MAX_BODY], b"yy"]), timeout=10)
    assert_envelope(chunked, 413, "PAYLOAD_TOO_LARGE")


def test_dot_segments_are_rejected(gw: HttpService) -> None:
    # A raw request: HTTP clients would normalise the path before sending it.
    session = requests.Session()
    request = requests.Request("GET", f"{gw.url}/api/prices/x").prepare()
    request.url = f"{gw.url}/api/prices/%2E%2E/admin"
    assert_envelope(session.send(request, timeout=5), 400, "BAD_REQUEST")


def test_cors_preflight_and_headers(gw: HttpService) -> None:
    origin = "http://localhost:5173"
    preflight = requests.options(
        f"{gw.url}/api/prices",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        timeout=5,
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    proxied = requests.get(f"{gw.url}/api/prices", headers={"Origin": origin}, timeout=5)
    assert proxied.headers["Access-Control-Allow-Origin"] == origin
    own = requests.get(f"{gw.url}/api/services", headers={"Origin": origin}, timeout=5)
    assert own.headers["Access-Control-Allow-Origin"] == origin
    foreign = requests.get(f"{gw.url}/api/prices", headers={"Origin": "http://evil.example"}, timeout=5)
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_gateway_own_errors_use_the_envelope(gw: HttpService) -> None:
    assert_envelope(requests.get(f"{gw.url}/no/such/page", timeout=5), 404, "NOT_FOUND")
    not_allowed = requests.post(f"{gw.url}/api/latency", timeout=5)
    assert_envelope(not_allowed, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in not_allowed.headers["Allow"]


def test_index_lists_services_routes_and_links(gw: HttpService) -> None:
    info = requests.get(gw.url + "/", timeout=5).json()
    assert info["name"] == "ASCEP API Gateway"
    assert info["routes"]["/api/prices"] == "price_feed"
    assert info["links"]["latency"] == "/api/latency"
    assert info["uptime_seconds"] >= 0
    assert json.dumps(info)
