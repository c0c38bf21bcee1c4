"""What each of the gateway's own routes needs."""

from __future__ import annotations

import pytest

from ascep.gateway.auth.own_routes import requirement


@pytest.mark.parametrize(
    ("method", "path", "needed"),
    [
        ("GET", "/health", "public"),
        ("GET", "/ready", "public"),
        ("GET", "/api/auth/config", "public"),
        ("POST", "/api/auth/token", "public"),
        ("GET", "/", "public"),
        ("GET", "/assets/index.js", "public"),
        ("GET", "/socket.io/", None),
        ("GET", "/api/users/me", "authenticated"),
        ("GET", "/api/health", "read"),
        ("GET", "/api/services", "read"),
        ("POST", "/api/latency", "write"),
        ("GET", "/metrics", "read"),
        ("GET", "/status", "admin"),
        ("GET", "/api/gateway/splits", "admin"),
        ("PUT", "/api/gateway/splits/svc", "admin"),
        ("GET", "/api/gateway", "admin"),
        ("DELETE", "/api/gateway/keys/0123456789abcdef", "admin"),
        ("GET", "//status/", "admin"),
        ("GET", "/metrics/", "read"),
        ("GET", "/api//gateway//splits", "admin"),
        ("GET", "/health/", "public"),
    ],
)
def test_requirements(method: str, path: str, needed: str | None) -> None:
    assert requirement(method, path) == needed
