"""The bulkhead step, ``Location`` rewriting and the CORS authority, each alone."""

from __future__ import annotations

import io
import json

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from ascep.common.errors import BadGateway
from ascep.common.hosts import HostAllowList
from ascep.gateway.cors import CorsPolicy
from ascep.gateway.proxy import steps
from ascep.gateway.proxy.bulkhead import Bulkhead, BulkheadCollector
from ascep.gateway.proxy.exchange import Exchange, ProxyResponse, ResponseBody
from ascep.gateway.proxy.locations import rewrite_location
from ascep.gateway.proxy.pipeline import build_pipeline
from ascep.gateway.proxy.wsgi import ProxyApp
from ascep.gateway.routing import ServiceRegistry

from .test_steps import make_exchange, ok


@pytest.fixture
def registry() -> ServiceRegistry:
    reg = ServiceRegistry()
    reg.register_service(name="price_feed", port=5002, endpoints=["/prices"])
    reg.register_service(name="cep_engine", port=5004, endpoints=["/rules", "/alerts"], max_concurrency=2)
    return reg


def limited(registry: ServiceRegistry, bulkhead: Bulkhead, terminal=ok):
    return build_pipeline(
        [steps.render_errors, steps.resolve_route(registry), steps.limit_concurrency(bulkhead)], terminal
    )


def test_excess_calls_fail_at_once_and_slots_return_when_the_body_closes(registry: ServiceRegistry) -> None:
    bulkhead = Bulkhead({"price_feed": 5, "cep_engine": 2})
    handler = limited(registry, bulkhead)
    held = [ResponseBody(handler(make_exchange("/rules/1"))) for _ in range(2)]
    refused = handler(make_exchange("/rules/2"))
    assert refused.status == 503
    assert ("Retry-After", "1") in refused.headers
    assert json.loads(b"".join(refused.body))["error"] == {
        "code": "SERVICE_OVERLOADED",
        "message": "service 'cep_engine' has too many calls in progress; retry shortly",
        "details": {"service": "cep_engine", "limit": 2},
    }
    assert handler(make_exchange("/prices")).status == 200, "other services keep their own slots"
    held[0].close()
    held[0].close()  # closed twice: released once
    assert bulkhead.in_flight("cep_engine") == 1
    assert handler(make_exchange("/rules/3")).status == 200
    assert bulkhead.rejected("cep_engine") == 1


def test_no_slot_leaks_when_the_call_fails(registry: ServiceRegistry) -> None:
    bulkhead = Bulkhead({"price_feed": 1, "cep_engine": 1})

    def broken(_exchange: Exchange) -> ProxyResponse:
        raise BadGateway("broken")

    def crashing(_exchange: Exchange) -> ProxyResponse:
        raise RuntimeError("bug")

    for terminal in (broken, crashing, broken):
        assert limited(registry, bulkhead, terminal)(make_exchange("/prices")).status in (500, 502)
    assert bulkhead.in_flight("price_feed") == 0

    def body_breaks() -> object:
        yield b"part"
        raise OSError("service went away mid-body")

    def streaming(_exchange: Exchange) -> ProxyResponse:
        return ProxyResponse(200, "OK", [], body_breaks())

    body = ResponseBody(limited(registry, bulkhead, streaming)(make_exchange("/prices")))
    with pytest.raises(OSError, match="mid-body"):
        b"".join(body)
    body.close()
    assert bulkhead.in_flight("price_feed") == 0


def test_no_slot_leaks_when_the_answer_cannot_even_start(registry: ServiceRegistry) -> None:
    bulkhead = Bulkhead({"price_feed": 1, "cep_engine": 1})
    proxy = ProxyApp(limited(registry, bulkhead), max_body_bytes=100)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/api/prices", "wsgi.input": io.BytesIO()}

    def refusing_start_response(status: str, headers: list) -> None:
        raise OSError("client gone before the status line")

    with pytest.raises(OSError, match="client gone"):
        proxy(environ, refusing_start_response)
    assert bulkhead.in_flight("price_feed") == 0
    assert proxy.in_flight == 0


def test_bulkhead_metrics_are_read_at_scrape_time() -> None:
    bulkhead = Bulkhead({"cep_engine": 1})
    metrics = CollectorRegistry()
    metrics.register(BulkheadCollector(bulkhead))
    assert bulkhead.try_acquire("cep_engine")
    assert not bulkhead.try_acquire("cep_engine")
    text = generate_latest(metrics).decode()
    assert 'ascep_gateway_service_in_flight{service="cep_engine"} 1.0' in text
    assert 'ascep_gateway_service_concurrency_limit{service="cep_engine"} 1.0' in text
    assert 'ascep_gateway_service_overloaded_total{service="cep_engine"} 1.0' in text


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("/rules/7", "/api/rules/7"),
        ("/rules/7?x=1#top", "/api/rules/7?x=1#top"),
        ("/alerts", "/api/alerts"),
        ("http://cep:5004/rules/7", "/api/rules/7"),
        ("HTTP://CEP:5004/rules/EUR%2FUSD", "/api/rules/EUR%2FUSD"),
        ("/prices/BTC", "/prices/BTC"),  # another service's namespace: not this service's to move
        ("/health", "/health"),
        ("http://evil.example/rules/7", "http://evil.example/rules/7"),
        ("https://cep:5005/rules/7", "https://cep:5005/rules/7"),
        ("//cep:5004/rules/7", "//cep:5004/rules/7"),
        ("7", "7"),
        ("../rules/7", "../rules/7"),
        ("http://[::1/rules", "http://[::1/rules"),
    ],
)
def test_location_rewriting(registry: ServiceRegistry, location: str, expected: str) -> None:
    cep = registry.get("cep_engine")
    assert cep is not None
    rewritten = rewrite_location(
        location, service=cep, service_netloc="cep:5004", registry=registry, prefix="/api"
    )
    assert rewritten == expected


def test_location_step_rewrites_both_headers_of_the_called_service(registry: ServiceRegistry) -> None:
    def created(_exchange: Exchange) -> ProxyResponse:
        headers = [("Location", "/rules/7"), ("content-location", "/rules/7"), ("Link", "</rules/7>")]
        return ProxyResponse(201, "Created", headers, [b"{}"])

    handler = build_pipeline(
        [
            steps.resolve_route(registry),
            steps.rewrite_locations(registry, {"price_feed": "pf:5002", "cep_engine": "cep:5004"}, "/api"),
        ],
        created,
    )
    response = handler(make_exchange("/rules", method="POST"))
    assert response.headers == [
        ("Location", "/api/rules/7"),
        ("content-location", "/api/rules/7"),
        ("Link", "</rules/7>"),
    ]


def test_the_gateway_alone_decides_cors() -> None:
    def permissive_service(_exchange: Exchange) -> ProxyResponse:
        return ProxyResponse(200, "OK", [("Access-Control-Allow-Origin", "*"), ("X-Other", "1")], [b""])

    step = steps.apply_cors(CorsPolicy.from_origins(["http://localhost:5173"]))
    no_origin = step(make_exchange(), permissive_service)
    assert no_origin.headers == [("X-Other", "1")]
    foreign = step(make_exchange(headers=[("Origin", "http://evil.example")]), permissive_service)
    assert not [h for h in foreign.headers if h[0].lower().startswith("access-control")]


LOOPBACK_POLICY = CorsPolicy.from_origins(
    ["http://localhost:5173"], HostAllowList.from_patterns(["localhost"])
)


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        (None, "anything", True),  # not a browser
        ("http://localhost:5173", "localhost:5000", True),  # configured origin
        ("http://localhost:5000", "localhost:5000", True),  # same-origin dashboard on an allowed host
        ("http://evil.com", "evil.com", False),  # DNS rebinding: same-origin, but not our host
        ("http://evil.com", "localhost:5000", False),
        ("http://localhost:6000", "localhost:5000", False),
    ],
)
def test_socketio_origin_check(origin: str | None, host: str, allowed: bool) -> None:
    environ = {"wsgi.url_scheme": "http", "HTTP_HOST": host}
    assert LOOPBACK_POLICY.allows_socketio(origin, environ) is allowed


def test_socketio_same_origin_needs_a_named_host_not_the_wildcard() -> None:
    policy = CorsPolicy.from_origins([], HostAllowList.from_patterns(["*"]))
    assert not policy.allows_socketio("http://evil.com", {"wsgi.url_scheme": "http", "HTTP_HOST": "evil.com"})
    behind_tls = CorsPolicy.from_origins([], HostAllowList.from_patterns(["app.example.com"]))
    environ = {"wsgi.url_scheme": "http", "HTTP_HOST": "app.example.com", "HTTP_X_FORWARDED_PROTO": "https"}
    assert behind_tls.allows_socketio("https://app.example.com", environ)
