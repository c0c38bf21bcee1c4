"""The CORS policy applied to the gateway's own routes (``CorsMiddleware``) and to header lists."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.test import Client

from ascep.gateway.cors import CorsMiddleware, CorsPolicy, with_cors

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
        "Access-Control-Expose-Headers": "X-Request-ID, RateLimit, RateLimit-Policy, Retry-After",
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
