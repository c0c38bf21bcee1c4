"""HealthRouting's bookkeeping and its /metrics view (no I/O: nothing here talks to Redis)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, generate_latest

from ascep.common.redis_client import connect
from ascep.gateway.upstreams.active_health import HealthCheckOptions
from ascep.gateway.upstreams.health_routing import HealthRouting, routable
from ascep.gateway.upstreams.model import Upstream
from ascep.gateway.upstreams.outliers import OutlierOptions
from ascep.gateway.upstreams.routing_metrics import RoutingCollector


def make() -> tuple[HealthRouting, list[Upstream]]:
    instances = [Upstream("svc", f"i{i}", f"http://h{i}:1") for i in range(3)]
    routing = HealthRouting(
        lambda: instances,
        health_options=lambda _s: HealthCheckOptions(),
        outlier_options=lambda _s: OutlierOptions(),
        redis_client=connect("redis://127.0.0.1:1/0"),  # never used by these tests
        redis_url="redis://127.0.0.1:1/0",
        async_mode="threading",
        sleep=time.sleep,
    )
    return routing, instances


def test_routable_means_healthy_and_not_ejected() -> None:
    upstream = Upstream("svc", "a", "http://a:1")
    assert routable(upstream, now=10.0)
    upstream.ejected_until = 11.0
    assert not routable(upstream, now=10.0)
    assert routable(upstream, now=11.0)  # its time is over: back at once
    upstream.healthy = False
    assert not routable(upstream, now=20.0)


def test_an_ejection_is_counted_reported_and_its_return_noted() -> None:
    routing, (a, _b, _c) = make()
    for _ in range(5):
        routing.observe(a, True)
    report = routing.report(a)
    assert report["routable"] is False
    assert report["outlier"]["ejected"] is True
    assert report["outlier"]["times_ejected"] == 1
    assert routing.transitions[("svc", "i0", "ejected")] == 1
    a.ejected_until = time.monotonic() - 1
    routing.sweep()
    assert routing.transitions[("svc", "i0", "returned")] == 1
    routing.sweep()
    assert routing.transitions[("svc", "i0", "returned")] == 1  # once per return


def test_metrics_name_the_service_and_the_instance() -> None:
    routing, (a, b, _c) = make()
    b.healthy = False
    routing._changed(b, "unhealthy", "remote")
    for _ in range(5):
        routing.observe(a, True)
    registry = CollectorRegistry()
    registry.register(RoutingCollector(routing))
    text = generate_latest(registry).decode()
    assert 'ascep_gateway_upstream_healthy{instance="i1",service="svc"} 0.0' in text
    assert 'ascep_gateway_upstream_ejected{instance="i0",service="svc"} 1.0' in text
    assert 'ascep_gateway_upstream_transitions_total{instance="i0",service="svc",to="ejected"} 1.0' in text
    assert 'ascep_gateway_upstream_transitions_total{instance="i1",service="svc",to="unhealthy"} 1.0' in text
