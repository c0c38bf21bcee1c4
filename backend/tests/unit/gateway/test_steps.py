"""Each proxy step alone, with a plain function standing in for the rest of the pipeline."""

from __future__ import annotations

import io
import json
import time

import pytest

from ascep.common.errors import (
    BadGateway,
    BadRequest,
    NotFound,
    PayloadTooLarge,
    ServiceOverloaded,
    ServiceUnavailable,
    UpstreamTimeout,
)
from ascep.gateway.cors import CorsPolicy
from ascep.gateway.latency.recorder import LatencyRecorder, Sample
from ascep.gateway.proxy import steps
from ascep.gateway.proxy.exchange import Exchange, ProxyResponse, ResponseBody
from ascep.gateway.proxy.pipeline import build_pipeline
from ascep.gateway.routing import ServiceRegistry


def make_exchange(path: str = "/prices/x", method: str = "GET", **overrides: object) -> Exchange:
    fields: dict = {
        "request_id": "rid",
        "method": method,
        "path": path,
        "raw_path": path,
        "query": "",
        "headers": [],
        "body": io.BytesIO(b""),
        "content_length": None,
        "chunked": False,
        "client_addr": "127.0.0.1",
        "scheme": "http",
        "host": "gw",
        "started": time.perf_counter(),
    }
    fields.update(overrides)
    return Exchange(**fields)


def ok(_exchange: Exchange) -> ProxyResponse:
    return ProxyResponse(200, "OK", [("Content-Type", "text/plain")], [b"fine"])


class CollectingWriter:
    """Stands in for Redis in pure unit tests of the recorder's bookkeeping."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []

    def write(self, samples: list[Sample]) -> None:
        self.samples.extend(samples)


@pytest.fixture
def registry() -> ServiceRegistry:
    reg = ServiceRegistry()
    reg.register_service(name="price_feed", port=5002, endpoints=["/prices"], description="")
    reg.register_service(name="ro", port=5003, endpoints=["/ro"], description="", methods=["GET"])
    return reg


def test_pipeline_runs_steps_outermost_first() -> None:
    order: list[str] = []

    def tag(name: str):
        def step(exchange: Exchange, call_next):
            order.append(name)
            return call_next(exchange)

        return step

    handler = build_pipeline([tag("a"), tag("b")], lambda ex: (order.append("end"), ok(ex))[1])
    assert handler(make_exchange()).status == 200
    assert order == ["a", "b", "end"]


def test_resolve_route_sets_route_or_404(registry: ServiceRegistry) -> None:
    seen: list[str] = []
    step = steps.resolve_route(registry)
    step(make_exchange("/prices/BTC"), lambda ex: (seen.append(ex.route.service.name), ok(ex))[1])
    assert seen == ["price_feed"]
    with pytest.raises(NotFound):
        step(make_exchange("/nope"), ok)


def test_resolve_route_enforces_methods(registry: ServiceRegistry) -> None:
    response = steps.render_errors(
        make_exchange("/ro", method="POST"), lambda ex: steps.resolve_route(registry)(ex, ok)
    )
    assert response.status == 405
    assert ("Allow", "GET") in response.headers


@pytest.mark.parametrize("path", ["/prices/../admin", "/prices/./x", "/prices/.."])
def test_dot_segments_are_refused(path: str) -> None:
    with pytest.raises(BadRequest):
        steps.reject_dot_segments(make_exchange(path), ok)


def test_body_limit() -> None:
    step = steps.limit_body(10)
    assert step(make_exchange(content_length=10), ok).status == 200
    with pytest.raises(PayloadTooLarge):
        step(make_exchange(content_length=11), ok)


def test_render_errors_builds_the_envelope() -> None:
    def fail(_ex: Exchange) -> ProxyResponse:
        raise BadGateway("service 'x' sent an invalid response", {"service": "x"})

    response = steps.render_errors(make_exchange(), fail)
    body = json.loads(b"".join(response.body))
    assert response.status == 502
    assert body == {
        "error": {
            "code": "BAD_GATEWAY",
            "message": "service 'x' sent an invalid response",
            "details": {"service": "x"},
        },
        "request_id": "rid",
    }


def test_render_errors_hides_unexpected_exceptions() -> None:
    def crash(_ex: Exchange) -> ProxyResponse:
        raise RuntimeError("secret internal detail http://10.0.0.1")

    response = steps.render_errors(make_exchange(), crash)
    payload = b"".join(response.body).decode()
    assert response.status == 500
    assert "10.0.0.1" not in payload
    assert "INTERNAL_ERROR" in payload


def test_cors_preflight_answered_locally_and_headers_added() -> None:
    step = steps.apply_cors(CorsPolicy.from_origins(["http://localhost:5173"]))
    preflight = make_exchange(
        method="OPTIONS",
        headers=[("Origin", "http://localhost:5173"), ("Access-Control-Request-Method", "POST")],
    )
    answered = step(preflight, lambda ex: pytest.fail("preflight must not reach the service"))
    assert answered.status == 204
    assert ("Access-Control-Allow-Origin", "http://localhost:5173") in answered.headers
    normal = step(make_exchange(headers=[("Origin", "http://localhost:5173")]), ok)
    assert ("Access-Control-Allow-Credentials", "true") in normal.headers
    foreign = step(make_exchange(headers=[("Origin", "http://evil.example")]), ok)
    assert not [h for h in foreign.headers if h[0].startswith("Access-Control")]


def test_wildcard_origin_never_allows_credentials() -> None:
    policy = CorsPolicy.from_origins(["*"])
    headers = dict(policy.response_headers("http://anything"))
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in headers


def test_latency_recorded_when_body_closes_and_on_errors(registry: ServiceRegistry) -> None:
    writer = CollectingWriter()
    recorder = LatencyRecorder(writer, buffer_max=100, flush_interval=0.1)
    handler = build_pipeline(
        [steps.render_errors, steps.resolve_route(registry), steps.record_latency(recorder)], ok
    )
    response = handler(make_exchange("/prices/a"))
    assert recorder.pending == 0, "not recorded before the body is delivered"
    body = ResponseBody(response)
    assert b"".join(body) == b"fine"
    body.close()
    body.close()  # the WSGI server may close twice; record once

    def unavailable(_ex: Exchange) -> ProxyResponse:
        from ascep.common.errors import ServiceUnavailable

        raise ServiceUnavailable("down")

    failing = build_pipeline(
        [steps.render_errors, steps.resolve_route(registry), steps.record_latency(recorder)], unavailable
    )
    assert failing(make_exchange("/prices")).status == 503
    recorder.flush()
    assert [(s.service, s.endpoint, s.method, s.status) for s in writer.samples] == [
        ("price_feed", "/prices", "GET", 200),
        ("price_feed", "/prices", "GET", 503),
    ]
    assert all(s.duration >= 0 for s in writer.samples)


# --- observe_outcome: what outlier detection hears about each call --------------------------


def _observed(answer: object) -> list[bool]:
    """Run one call through ``observe_outcome``; what it reported for the chosen instance."""
    from ascep.common.errors import AscepError
    from ascep.gateway.upstreams.model import Upstream

    seen: list[tuple[Upstream, bool]] = []
    upstream = Upstream("svc", "a:1", "http://a:1")
    step = steps.observe_outcome(lambda u, failed: seen.append((u, failed)))

    def call_next(_exchange: Exchange) -> ProxyResponse:
        if isinstance(answer, BaseException):
            raise answer
        assert isinstance(answer, ProxyResponse)
        return answer

    try:
        response = step(make_exchange(upstream=upstream), call_next)
        body = ResponseBody(response)
        list(body)
        body.close()
    except AscepError:
        pass
    assert all(u is upstream for u, _ in seen)
    return [failed for _, failed in seen]


@pytest.mark.parametrize(
    ("answer", "observed"),
    [
        (ProxyResponse(200, "OK", [], [b"x"]), [False]),
        (ProxyResponse(404, "Not Found", [], [b"x"]), [False]),  # the client's fault
        (ProxyResponse(500, "Internal Server Error", [], [b"x"]), [True]),
        (ProxyResponse(503, "Service Unavailable", [], [b"x"]), [True]),
        (BadGateway("broken"), [True]),
        (UpstreamTimeout("slow"), [True]),
        (ServiceUnavailable("refused"), [True]),
        (ServiceOverloaded("bulkhead full"), []),  # decided by the gateway: says nothing of the instance
        (NotFound("no route"), []),
    ],
)
def test_observe_outcome_reports_failures_of_the_instance_only(answer: object, observed: list[bool]) -> None:
    assert _observed(answer) == observed


def test_observe_outcome_without_a_chosen_instance_does_nothing() -> None:
    seen: list[object] = []
    step = steps.observe_outcome(lambda u, failed: seen.append(u))
    step(make_exchange(), ok)
    assert seen == []
