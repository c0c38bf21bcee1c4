"""CORS through real gateway processes: local mode, listed origins only, and hostile origins.

Two gateways share a Redis and the echo upstream: one as ``./ascep run`` starts it (AUTH_MODE=off,
loopback: any page on this machine may call it), one with AUTH_MODE=required (only the one listed
origin). Every check goes over HTTP to a proxied path, one of the gateway's own routes, an error,
and Socket.IO (a real WebSocket handshake and an Engine.IO polling request). Local origins use a
fresh free port each run: nothing about the port may matter.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator

import pytest
import requests
import websocket

from support.ports import free_port
from support.processes import HttpService
from support.redis_server import RedisServer
from support.stack import gateway_env

pytestmark = pytest.mark.integration

LISTED = f"http://localhost:{free_port()}"
POLLING = "/socket.io/?EIO=4&transport=polling"
HOSTILE = [
    "http://evil.example",
    "null",
    "http://localhost.evil.com",
    "http://127.0.0.1.nip.io",
    "http://localhost@evil",
    "http://127.0.0.2:5173",
]


@pytest.fixture(scope="module")
def gateways(
    redis_server: RedisServer, upstream: HttpService, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[HttpService, HttpService]]:
    """(local mode gateway, AUTH_MODE=required gateway listing only ``LISTED``)."""
    logs = tmp_path_factory.mktemp("cors")
    command = [sys.executable, "-m", "ascep.gateway"]
    local = HttpService("gateway-local", command, gateway_env(redis_server.url, upstream), logs)
    required_env = gateway_env(
        redis_server.url,
        upstream,
        AUTH_MODE="required",
        CORS_ORIGINS=LISTED,
        JWT_SECRET=secrets.token_urlsafe(48),  # what a gateway requiring auth needs to start
    )
    required = HttpService("gateway-required", command, required_env, logs)
    try:
        local.start()
        required.start()
        local.wait_healthy()
        required.wait_healthy()
        yield local, required
    finally:
        local.stop()
        required.stop()


def cors(response: requests.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def preflight(url: str, origin: str) -> requests.Response:
    return requests.options(
        url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, x-api-key, content-type",
        },
        timeout=5,
    )


def handshake(gw: HttpService, origin: str) -> str:
    """Open a Socket.IO WebSocket from a page at ``origin``; the Engine.IO open packet received."""
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{gw.port}/socket.io/?EIO=4&transport=websocket", origin=origin, timeout=5
    )
    try:
        return str(ws.recv())
    finally:
        ws.close()


def assert_allowed(gw: HttpService, origin: str) -> None:
    """REST (proxied, own route, an error, preflights) and Socket.IO all accept ``origin``."""
    for path in ["/api/prices", "/api/services", "/api/no-such-service"]:
        headers = cors(requests.get(gw.url + path, headers={"Origin": origin}, timeout=5))
        assert headers.get("access-control-allow-origin") == origin, (path, headers)
        assert headers["access-control-allow-credentials"] == "true"
    for path, status in [("/api/prices", 204), ("/api/services", 200)]:
        answer = preflight(gw.url + path, origin)
        assert answer.status_code == status, (path, answer.text)
        assert cors(answer)["access-control-allow-origin"] == origin
        allowed = {h.strip() for h in cors(answer)["access-control-allow-headers"].split(",")}
        assert {"authorization", "x-api-key"} <= allowed
    polling = requests.get(gw.url + POLLING, headers={"Origin": origin}, timeout=5)
    assert polling.status_code == 200, polling.text
    assert cors(polling)["access-control-allow-origin"] == origin
    assert handshake(gw, origin).startswith("0{"), "Engine.IO open packet"


def assert_refused(gw: HttpService, origin: str) -> None:
    """No CORS header anywhere, and Socket.IO answers 403 ``ORIGIN_NOT_ALLOWED``."""
    for path in ["/api/prices", "/api/services", "/api/no-such-service"]:
        assert cors(requests.get(gw.url + path, headers={"Origin": origin}, timeout=5)) == {}, (path, origin)
    for path in ["/api/prices", "/api/services"]:
        assert "access-control-allow-origin" not in cors(preflight(gw.url + path, origin)), (path, origin)
    polling = requests.get(gw.url + POLLING, headers={"Origin": origin}, timeout=5)
    assert polling.status_code == 403, origin
    assert polling.json()["error"]["code"] == "ORIGIN_NOT_ALLOWED"
    assert cors(polling) == {}
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        handshake(gw, origin)
    assert refused.value.status_code == 403


@pytest.mark.parametrize("template", ["http://localhost:{}", "http://127.0.0.1:{}", "http://[::1]:{}"])
def test_a_local_page_on_any_port_works_without_configuration(
    gateways: tuple[HttpService, HttpService], template: str
) -> None:
    local, _required = gateways
    assert_allowed(local, template.format(free_port()))


@pytest.mark.parametrize("template", ["http://localhost:{}", "http://127.0.0.1:{}", "http://[::1]:{}"])
def test_a_local_page_is_refused_when_auth_is_required_unless_listed(
    gateways: tuple[HttpService, HttpService], template: str
) -> None:
    _local, required = gateways
    assert_refused(required, template.format(free_port()))
    assert_allowed(required, LISTED)


@pytest.mark.parametrize("origin", HOSTILE)
def test_foreign_and_lookalike_origins_are_refused_in_every_mode(
    gateways: tuple[HttpService, HttpService], origin: str
) -> None:
    for gw in gateways:
        assert_refused(gw, origin)


def test_no_origin_means_no_cors_header_anywhere(gateways: tuple[HttpService, HttpService]) -> None:
    local, required = gateways
    for gw in (local, required):
        for path in ["/api/prices", "/api/services", "/api/no-such-service", "/api/rules", POLLING]:
            answer = requests.get(gw.url + path, timeout=5)
            assert cors(answer) == {}, (gw.name, path, answer.status_code, dict(answer.headers))
