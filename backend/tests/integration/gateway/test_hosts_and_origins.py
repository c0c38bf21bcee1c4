"""Host allow-list, Socket.IO origins, CORS without Origin, and the headers a proxied answer carries.

A real gateway in front of a real CEP engine (which sets ``Location`` and echoes ``X-Request-ID``
itself); requests with hostile ``Host`` headers go over raw sockets, exactly as a DNS-rebinding
page's browser would send them.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Callable, Iterator

import pytest
import requests
import websocket

from support.processes import HttpService
from support.redis_server import RedisServer
from support.sio import RecordingClient

from .conftest import gateway_env

RULE = {"name": "BTC spike", "pattern": "price_spike", "conditions": {"percent": 2, "window": "60s"}}


@pytest.fixture(scope="module")
def stack(
    redis_server: RedisServer, upstream: HttpService, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[HttpService, HttpService]]:
    """(gateway, cep engine): cep_engine is the real service, price_feed the echo upstream."""
    logs = tmp_path_factory.mktemp("hosts")
    cep = HttpService("cep", [sys.executable, "-m", "ascep.cep"], {"REDIS_URL": redis_server.url}, logs)
    gw = HttpService(
        "gateway",
        [sys.executable, "-m", "ascep.gateway"],
        gateway_env(redis_server.url, upstream, CEP_ENGINE_URL=cep.url),
        logs,
    )
    try:
        cep.start().wait_healthy()
        gw.start().wait_healthy()
        yield gw, cep
    finally:
        gw.stop()
        cep.stop()


def raw_get(port: int, path: str, host: str, extra: str = "") -> tuple[int, dict[str, str], bytes]:
    """``GET`` with exactly the ``Host`` given (no client library would send some of these)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nX-Request-ID: raw-1\r\n{extra}Connection: close\r\n\r\n"
        )
        sock.sendall(request.encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    return int(status_line.split()[1]), headers, body


GATEWAY_PATHS = [
    "/",
    "/health",
    "/metrics",
    "/api/services",
    "/api/prices",
    "/api/rules",
    "/socket.io/?EIO=4&transport=polling",
]


@pytest.mark.parametrize(
    "host", ["evil.com", "evil.com:5000", "localhost.evil.com", "localhost@evil.com", "127.0.0.2"]
)
def test_a_foreign_host_is_refused_by_the_gateway_and_by_services(
    stack: tuple[HttpService, HttpService], host: str
) -> None:
    gw, cep = stack
    targets = [(gw.port, path) for path in GATEWAY_PATHS] + [(cep.port, "/health"), (cep.port, "/rules")]
    for port, path in targets:
        status, headers, body = raw_get(port, path, host)
        assert status == 400, (port, path, body)
        envelope = json.loads(body)
        assert envelope["error"]["code"] == "HOST_NOT_ALLOWED", (port, path)
        assert envelope["error"]["details"]["host"] == host
        assert envelope["request_id"] == headers["x-request-id"] == "raw-1"


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1", "LOCALHOST"])
def test_loopback_names_with_any_port_are_served(stack: tuple[HttpService, HttpService], name: str) -> None:
    gw, cep = stack
    for port, path in [
        (gw.port, "/health"),
        (gw.port, "/api/prices"),
        (gw.port, "/api/rules"),
        (cep.port, "/rules"),
    ]:
        status, _headers, body = raw_get(port, path, f"{name}:{port}")
        assert status == 200, (port, path, body)


def test_proxied_answers_carry_one_request_id_and_gateway_locations(
    stack: tuple[HttpService, HttpService],
) -> None:
    gw, _cep = stack
    created = requests.post(f"{gw.url}/api/rules", json=RULE, headers={"X-Request-ID": "rule-1"}, timeout=5)
    assert created.status_code == 201, created.text
    assert created.raw.headers.getlist("X-Request-ID") == ["rule-1"]
    rule_id = created.json()["rule"]["rule_id"]
    assert created.headers["Location"] == f"/api/rules/{rule_id}"
    followed = requests.get(gw.url + created.headers["Location"], timeout=5)
    assert followed.status_code == 200
    assert followed.json()["rule"]["rule_id"] == rule_id
    assert len(followed.raw.headers.getlist("X-Request-ID")) == 1


@pytest.mark.parametrize("path", ["/health", "/api/services", "/api/latency", "/api/prices", "/api/rules"])
def test_no_origin_means_no_cors_headers(stack: tuple[HttpService, HttpService], path: str) -> None:
    gw, _cep = stack
    plain = requests.get(gw.url + path, timeout=5)
    assert plain.status_code == 200, plain.text
    assert not [h for h in plain.headers if h.lower().startswith("access-control-")], dict(plain.headers)
    browser = requests.get(gw.url + path, headers={"Origin": "http://localhost:5173"}, timeout=5)
    assert browser.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"


def cors_headers(response: requests.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def test_own_routes_and_proxied_routes_answer_cors_alike(stack: tuple[HttpService, HttpService]) -> None:
    """One policy: a gateway route's preflight and answer carry exactly what a proxied one does."""
    gw, _cep = stack
    origin = "http://localhost:5173"
    ask = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-request-id",
    }
    own_preflight = requests.options(gw.url + "/api/services", headers=ask, timeout=5)
    proxied_preflight = requests.options(gw.url + "/api/rules", headers=ask, timeout=5)
    assert own_preflight.status_code == 200, own_preflight.text  # Flask's own OPTIONS answer
    assert proxied_preflight.status_code == 204
    assert cors_headers(own_preflight) == cors_headers(proxied_preflight)
    assert own_preflight.headers["Access-Control-Max-Age"] == "600"
    assert own_preflight.headers["Access-Control-Allow-Headers"] == "content-type, x-request-id"
    own = requests.get(gw.url + "/api/services", headers={"Origin": origin}, timeout=5)
    proxied = requests.get(gw.url + "/api/rules", headers={"Origin": origin}, timeout=5)
    assert cors_headers(own) == cors_headers(proxied)
    assert cors_headers(own)["Access-Control-Allow-Credentials"] == "true"
    assert "origin" in own.headers["Vary"].lower()
    foreign = requests.get(gw.url + "/api/services", headers={"Origin": "http://evil.example"}, timeout=5)
    assert cors_headers(foreign) == {}


def socketio_handshake(port: int, host: str, origin: str) -> websocket.WebSocket:
    return websocket.create_connection(
        f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket", host=host, origin=origin, timeout=5
    )


def test_socketio_refuses_a_rebound_page_and_accepts_its_own(stack: tuple[HttpService, HttpService]) -> None:
    gw, _cep = stack
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        socketio_handshake(gw.port, "evil.com", "http://evil.com")
    assert refused.value.status_code == 400
    own = socketio_handshake(gw.port, f"localhost:{gw.port}", f"http://localhost:{gw.port}")
    try:
        assert own.recv().startswith("0{"), "Engine.IO open: a same-origin dashboard connects"
    finally:
        own.close()
    client = RecordingClient(gw.url)  # a non-browser client sends no Origin at all
    try:
        assert client.sid
    finally:
        client.close()


def test_origin_check_does_not_trust_host_even_when_hosts_are_unchecked(
    start_gateway: Callable[..., HttpService],
) -> None:
    gw = start_gateway(ALLOWED_HOSTS="*")
    assert raw_get(gw.port, "/health", "evil.com")[0] == 200, "'*' switches the Host check off"
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        socketio_handshake(gw.port, "evil.com", "http://evil.com")
    assert refused.value.status_code == 403
    status, headers, body = raw_get(
        gw.port, "/socket.io/?EIO=4&transport=polling", "evil.com", "Origin: http://evil.com\r\n"
    )
    assert status == 403
    assert json.loads(body) == {
        "error": {
            "code": "ORIGIN_NOT_ALLOWED",
            "message": "this page's origin may not open a Socket.IO connection",
            "details": {"origin": "http://evil.com"},
        },
        "request_id": headers["x-request-id"],
    }
    listed = socketio_handshake(gw.port, "evil.com", "http://localhost:5173")
    try:
        assert listed.recv().startswith("0{"), "a configured origin connects"
    finally:
        listed.close()
