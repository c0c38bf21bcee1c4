"""The own-route and Socket.IO middlewares on a real Redis: who counts, what is exempt, headers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from ascep.gateway.auth.principal import ENVIRON_KEY, Principal
from ascep.gateway.client_address import ClientAddresses
from ascep.gateway.ratelimit.connections import LimiterConnections
from ascep.gateway.ratelimit.limiter import RateLimiter
from ascep.gateway.ratelimit.outage import RedisOutage
from ascep.gateway.ratelimit.policy import Policy
from ascep.gateway.ratelimit.spec import parse_limit
from ascep.gateway.ratelimit.table import PolicyTable
from ascep.gateway.ratelimit.wsgi import OwnRouteLimit, SocketIOConnectLimit


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def limiter(url: str) -> RateLimiter:
    connections = LimiterConnections(url, timeout=0.5, size=4, wait_s=5)
    table = PolicyTable(
        {name: Policy(name, parse_limit("2/1h"), "default") for name in ("gateway", "socketio")}, "gcra"
    )
    return RateLimiter(connections, table, RedisOutage(connections.ping, fail_open=True))


def call(wsgi: Any, path: str, **environ: Any) -> tuple[int, dict[str, str], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = int(status.split()[0]), dict(headers)

    path, _, query = path.partition("?")
    base = {"PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": "GET", "REMOTE_ADDR": "192.0.2.1"}
    body = b"".join(wsgi({**base, **environ}, start_response))
    return seen["status"], seen["headers"], body


def test_own_routes_count_by_principal_else_address(redis_url: str) -> None:
    limited = OwnRouteLimit(app, limiter(redis_url), ClientAddresses())
    alice = Principal("jwt", "alice", frozenset({"admin"}))
    statuses = [call(limited, "/api/services", **{ENVIRON_KEY: alice})[0] for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert call(limited, "/api/services")[0] == 200  # anonymous at the same address: its own budget
    status, headers, body = call(limited, "/api/latency", **{ENVIRON_KEY: alice})
    assert status == 429
    assert headers["RateLimit-Policy"] == '"gateway";q=2;w=3600'
    assert int(headers["Retry-After"]) > 0
    assert json.loads(body)["error"]["code"] == "RATE_LIMITED"


def test_own_route_exemptions(redis_url: str) -> None:
    limited = OwnRouteLimit(app, limiter(redis_url), ClientAddresses())
    preflight = {
        "REQUEST_METHOD": "OPTIONS",
        "HTTP_ORIGIN": "http://localhost:5173",
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT",
    }
    for _ in range(5):
        for path, extra in (
            ("/health", {}),
            ("/metrics", {}),
            ("/api/gateway/rate-limits/x", {}),
            ("/api/x", preflight),
        ):
            status, headers, _ = call(limited, path, **extra)
            assert status == 200
            assert "RateLimit-Policy" not in headers, path


def test_socketio_counts_handshakes_not_session_requests(redis_url: str) -> None:
    limited = SocketIOConnectLimit(app, limiter(redis_url), ClientAddresses())
    for _ in range(5):
        assert call(limited, "/socket.io/?EIO=4&transport=polling&sid=abc")[0] == 200
    statuses = [call(limited, "/socket.io/?EIO=4&transport=websocket")[0] for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert call(limited, "/api/prices")[0] == 200  # not Socket.IO: not this middleware's business
