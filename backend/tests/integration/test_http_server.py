"""The HTTP server of every process (gateway and services) parses strictly and answers in JSON.

Raw sockets throughout: these are requests no HTTP client library would send.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from support.processes import HttpService
from support.raw_http import RawResponse, exchange
from support.redis_server import RedisServer
from support.stack import gateway_env

pytestmark = pytest.mark.integration

#: (process, path of a route that reads a body there: proxied on the gateway, Flask on arbitrage)
TARGETS = {"gateway": "/api/prices", "arbitrage": "/config"}


@pytest.fixture(scope="module")
def servers(
    redis_server: RedisServer, upstream: HttpService, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, HttpService]]:
    """A real gateway (price_feed -> the echo upstream) and a real arbitrage service."""
    logs = tmp_path_factory.mktemp("http-server")
    gateway = HttpService(
        "gateway", [sys.executable, "-m", "ascep.gateway"], gateway_env(redis_server.url, upstream), logs
    )
    arbitrage = HttpService("arbitrage", "ascep.arbitrage", {"REDIS_URL": redis_server.url}, logs)
    started = {"gateway": gateway.start(), "arbitrage": arbitrage.start()}
    try:
        for service in started.values():
            service.wait_healthy()
        yield started
    finally:
        for service in started.values():
            service.stop()


def assert_envelope(response: RawResponse, status: int, code: str | None = None) -> dict:
    assert response.status == status, response.raw[:600]
    assert "Traceback" not in response.body.decode("utf-8", "replace")
    assert response.headers.get("content-type", "").startswith("application/json"), response.raw[:600]
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["request_id"]
    assert body["request_id"] == response.headers["x-request-id"]
    if code is not None:
        assert body["error"]["code"] == code
    return body


def post(path: str, framing: str, body: bytes = b"") -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{framing}\r\n"
    return head.encode() + body


AMBIGUOUS = {
    "two different lengths": ("Content-Length: 2\r\nContent-Length: 12\r\n", b"{}"),
    "the same length twice": ("Content-Length: 2\r\nContent-Length: 2\r\n", b"{}"),
    "underscore": ("Content-Length: 0_2\r\n", b"{}"),
    "plus sign": ("Content-Length: +2\r\n", b"{}"),
    "negative": ("Content-Length: -2\r\n", b"{}"),
    "not a number": ("Content-Length: two\r\n", b"{}"),
    "length and chunked": ("Content-Length: 2\r\nTransfer-Encoding: chunked\r\n", b"2\r\n{}\r\n0\r\n\r\n"),
    "unknown coding": ("Transfer-Encoding: gzip, chunked\r\n", b"2\r\n{}\r\n0\r\n\r\n"),
    "coding twice": ("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"),
    "space before colon": ("Content-Length : 2\r\n", b"{}"),
}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", AMBIGUOUS)
def test_ambiguous_framing_is_400(servers: dict[str, HttpService], target: str, case: str) -> None:
    framing, body = AMBIGUOUS[case]
    response = exchange(servers[target].port, post(TARGETS[target], framing, body))
    assert_envelope(response, 400, "BAD_REQUEST")
    assert response.headers.get("connection") == "close"


@pytest.mark.parametrize("target", TARGETS)
def test_malformed_chunked_body_is_400(servers: dict[str, HttpService], target: str) -> None:
    request = post(TARGETS[target], "Transfer-Encoding: chunked\r\n", b"zz\r\n{}\r\n0\r\n\r\n")
    response = exchange(servers[target].port, request)
    assert 400 <= response.status < 500, response.raw[:600]
    assert_envelope(response, response.status)


TOO_LARGE = "HEADERS_TOO_LARGE"
SERVER_ERRORS = {
    "uri too long": (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 414, "URI_TOO_LONG"),
    "header line too long": (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431, TOO_LARGE),
    "too many headers": (
        b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(120)) + b"\r\n",
        431,
        TOO_LARGE,
    ),
    "unsupported version": (b"GET / HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED"),
    "malformed version": (b"GET / HTTX/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400, "BAD_REQUEST"),
    "garbage request line": (b"THIS IS NOT HTTP AT ALL\r\n\r\n", 400, "BAD_REQUEST"),
}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", SERVER_ERRORS)
def test_errors_of_the_server_itself_use_the_envelope(
    servers: dict[str, HttpService], target: str, case: str
) -> None:
    request, status, code = SERVER_ERRORS[case]
    assert_envelope(exchange(servers[target].port, request), status, code)


@pytest.mark.parametrize("target", TARGETS)
def test_a_valid_request_on_the_same_server_still_works(servers: dict[str, HttpService], target: str) -> None:
    request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    ok = exchange(servers[target].port, request)
    assert ok.status == 200, ok.raw[:400]
