"""The CORS policy applied to the gateway's own routes (``CorsMiddleware``) and to header lists."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
from werkzeug.test import Client

from ascep.gateway.cors import (
    EXPOSED_HEADERS,
    CorsMiddleware,
    CorsPolicy,
    SocketIOOriginGuard,
    is_local_origin,
    listens_on_loopback_only,
    local_mode,
    with_cors,
)

ORIGIN = "http://localhost:5173"


def route(headers: list[tuple[str, str]]) -> Callable[..., Iterable[bytes]]:
    """A WSGI app answering 200 with ``headers`` (what a Flask route would send)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), *headers])
        return [b"ok"]

    return app


def client(headers: list[tuple[str, str]] | None = None, origins: Iterable[str] = (ORIGIN,)) -> Client:
    return Client(CorsMiddleware(route(headers or []), CorsPolicy.from_origins(origins)))


def cors(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def test_no_origin_no_cors_headers_and_a_route_cannot_add_its_own() -> None:
    response = client([("Access-Control-Allow-Origin", "*")]).get("/")
    assert cors(response) == {}
    assert response.get_data() == b"ok"


def test_allowed_origin_gets_it_echoed_with_credentials() -> None:
    response = client().get("/", headers={"Origin": ORIGIN})
    assert cors(response) == {
        "Access-Control-Allow-Origin": ORIGIN,
        "Access-Control-Expose-Headers": EXPOSED_HEADERS,
        "Access-Control-Allow-Credentials": "true",
    }
    assert response.headers["Vary"] == "Origin"


def test_foreign_origin_gets_nothing() -> None:
    assert cors(client().get("/", headers={"Origin": "http://evil.example"})) == {}


def test_preflight_names_methods_headers_and_max_age() -> None:
    response = client().open(
        "/",
        method="OPTIONS",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "DELETE",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    headers = cors(response)
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "DELETE" in headers["Access-Control-Allow-Methods"]
    assert headers["Access-Control-Allow-Headers"] == "content-type"
    assert headers["Access-Control-Max-Age"] == "600"


def test_an_options_without_requested_method_is_no_preflight() -> None:
    response = client().open("/", method="OPTIONS", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Methods" not in cors(response)
    assert cors(response)["Access-Control-Allow-Origin"] == ORIGIN


def test_wildcard_never_sends_credentials() -> None:
    response = client(origins=["*"]).get("/", headers={"Origin": ORIGIN})
    assert cors(response)["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in cors(response)
    assert "Vary" not in response.headers


def test_vary_is_merged_not_doubled() -> None:
    response = client([("Vary", "Accept-Encoding")]).get("/", headers={"Origin": ORIGIN})
    assert response.headers.getlist("Vary") == ["Accept-Encoding, Origin"]
    assert with_cors([("vary", "origin")], [("Vary", "Origin")]) == [("vary", "origin")]
    assert with_cors([("Vary", "*")], [("Vary", "Origin")]) == [("Vary", "*")]


LOCAL = ["http://localhost:1", "http://localhost:65535", "http://127.0.0.1:40123", "http://[::1]:8080",
         "https://localhost:8443", "http://localhost", "http://127.0.0.1"]  # fmt: skip
LOOKALIKES = [
    "null",
    "http://localhost.evil.com",
    "http://localhost.evil.com:5173",
    "http://127.0.0.1.nip.io",
    "http://127.0.0.1.nip.io:5173",
    "http://localhost@evil",
    "http://localhost:5173@evil.com",
    "http://evil.com#@localhost:5173",
    "http://localhost:5173/",
    "http://localhost:5173/path",
    "http://localhost:0",
    "http://localhost:65536",
    "http://localhost:05173",
    "http://LOCALHOST:5173",
    "http://127.0.0.2:5173",
    "http://0.0.0.0:5173",
    "http://[::ffff:127.0.0.1]:5173",
    "http://2130706433:5173",
    "ws://localhost:5173",
    "file://localhost",
    "http://localhost:5173\n",
    "http://evil.example",
    "",
]


@pytest.mark.parametrize("origin", LOCAL)
def test_pages_on_this_machine_are_local_origins(origin: str) -> None:
    assert is_local_origin(origin)


@pytest.mark.parametrize("origin", LOOKALIKES)
def test_lookalikes_are_not_local_origins(origin: str) -> None:
    assert not is_local_origin(origin)


@pytest.mark.parametrize(
    ("auth_mode", "host", "local"),
    [
        ("off", "127.0.0.1", True),
        ("off", "127.0.0.2", True),
        ("off", "::1", True),
        ("off", "[::1]", True),
        ("off", "localhost", True),
        ("off", "0.0.0.0", False),  # HOST=0.0.0.0 / ASCEP_PUBLIC_HOST in a container
        ("off", "::", False),
        ("off", "192.168.1.10", False),
        ("off", "gateway.example.com", False),
        ("required", "127.0.0.1", False),
    ],
)
def test_local_mode_needs_auth_off_and_loopback_only(auth_mode: str, host: str, local: bool) -> None:
    assert local_mode(auth_mode, host) is local
    outside = ("0.0.0.0", "::", "192.168.1.10", "gateway.example.com")
    assert listens_on_loopback_only(host) is (host not in outside)


def test_local_mode_allows_any_local_port_with_credentials_and_no_lookalike() -> None:
    app = Client(CorsMiddleware(route([]), CorsPolicy.from_origins([], local_origins=True)))
    for origin in LOCAL:
        headers = cors(app.get("/", headers={"Origin": origin}))
        assert headers["Access-Control-Allow-Origin"] == origin
        assert headers["Access-Control-Allow-Credentials"] == "true"
    for origin in [o for o in LOOKALIKES if o and "\n" not in o]:  # a header value cannot hold a newline
        assert cors(app.get("/", headers={"Origin": origin})) == {}, origin


def test_outside_local_mode_only_listed_origins() -> None:
    policy = CorsPolicy.from_origins(["http://localhost:5173"])
    assert policy.allows("http://localhost:5173")
    assert not policy.allows("http://localhost:5174")
    assert not policy.allows("http://127.0.0.1:5173")


def test_a_page_can_read_what_it_needs_to_act_on_an_answer() -> None:
    exposed = {h.strip() for h in EXPOSED_HEADERS.split(",")}
    assert {"X-Request-ID", "Retry-After", "RateLimit", "RateLimit-Policy", "WWW-Authenticate"} <= exposed


def test_preflight_allows_the_credential_headers() -> None:
    app = Client(CorsMiddleware(route([]), CorsPolicy.from_origins([], local_origins=True)))
    asked = {
        "Origin": "http://127.0.0.1:4321",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, x-api-key, content-type",
    }
    headers = cors(app.open("/", method="OPTIONS", headers=asked))
    assert headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:4321"
    assert headers["Access-Control-Allow-Headers"] == "authorization, x-api-key, content-type"


@pytest.mark.parametrize(
    ("origins", "message"),
    [
        (["null"], "sandboxed"),
        (["localhost:5173"], "not an origin"),
        (["http://localhost:5173/app"], "no path"),
        (["http://user@localhost:5173"], "not an origin"),
    ],
)
def test_malformed_cors_origins_are_refused(origins: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CorsPolicy.from_origins(origins)


def test_listed_origins_are_compared_as_browsers_send_them() -> None:
    assert CorsPolicy.from_origins(["HTTP://App.Example.com/"]).allows("http://app.example.com")


def engineio_like(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """What python-engineio answers: its own CORS headers, credentials even without ``Origin``."""
    origin = environ.get("HTTP_ORIGIN")
    headers = [("Access-Control-Allow-Credentials", "true")]
    if origin:
        headers.append(("Access-Control-Allow-Origin", origin))
    start_response("200 OK", [("Content-Type", "text/plain"), *headers])
    return [b"0{}"]


def test_socketio_answers_carry_the_gateway_policy_not_engineio_headers() -> None:
    guard = Client(SocketIOOriginGuard(engineio_like, CorsPolicy.from_origins([], local_origins=True)))
    plain = guard.get("/socket.io/?EIO=4&transport=polling")
    assert plain.status_code == 200
    assert cors(plain) == {}, "no Origin: no CORS header at all"
    local = guard.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": "http://localhost:39999"})
    assert cors(local)["Access-Control-Allow-Origin"] == "http://localhost:39999"
    refused = guard.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": "http://localhost.evil.com"})
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "ORIGIN_NOT_ALLOWED"
    assert cors(refused) == {}
