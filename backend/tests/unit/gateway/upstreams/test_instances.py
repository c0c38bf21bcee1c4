"""UpstreamSet: which instances a call may go to, discovery changes, and select_upstream's counting."""

from __future__ import annotations

import io
import random
import time

import pytest

from ascep.common.discovery import InstanceRecord
from ascep.common.errors import NoHealthyUpstream, ServiceUnavailable
from ascep.gateway.proxy.exchange import Exchange, ProxyResponse, ResponseBody
from ascep.gateway.routing import Route, ServiceRegistry
from ascep.gateway.upstreams.balancers import RoundRobin
from ascep.gateway.upstreams.instances import Upstreams, UpstreamSet, build_upstreams
from ascep.gateway.upstreams.model import Upstream
from ascep.gateway.upstreams.policy import UpstreamPolicy
from ascep.gateway.upstreams.selection import select_upstream


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def static(n: int) -> list[Upstream]:
    return [Upstream("svc", f"10.0.0.{i}:80", f"http://10.0.0.{i}:80") for i in range(n)]


def record(instance_id: str, url: str, **kw: object) -> InstanceRecord:
    return InstanceRecord("svc", instance_id, url, version="1.2", weight=2, heartbeat_at=time.time(), **kw)  # type: ignore[arg-type]


def test_routable_skips_unhealthy_ejected_and_open_but_keeps_half_open() -> None:
    clock = Clock()
    members = static(4)
    members[0].healthy = False
    members[1].ejected_until = clock.now + 5
    members[2].breaker_state = "open"
    members[2].breaker_retry_at = clock.now + 60
    members[3].breaker_state = "half_open"
    instances = UpstreamSet("svc", members, clock=clock)
    assert instances.routable() == [members[3]]
    clock.now += 6
    assert instances.routable() == [members[1], members[3]]
    clock.now += 60  # the open time is over: selection sends it calls again, the breaker probes
    assert instances.routable() == [members[1], members[2], members[3]]


def test_only_open_breakers_left_goes_to_the_breaker_step_not_a_generic_503() -> None:
    members = static(2)
    members[0].breaker_state = "open"
    members[1].healthy = False
    instances = UpstreamSet("svc", members)
    assert instances.choose() is members[0]


@pytest.mark.parametrize("policy", ["fail", "panic"])
def test_when_every_instance_is_unhealthy_the_policy_decides(policy: str) -> None:
    members = static(3)
    for member in members:
        member.healthy = False
    instances = UpstreamSet(
        "svc",
        members,
        policy=UpstreamPolicy(when_all_unhealthy=policy),  # type: ignore[arg-type]
        balancer=RoundRobin(random.Random(0)),
    )
    if policy == "fail":
        with pytest.raises(NoHealthyUpstream) as caught:
            instances.choose()
        assert caught.value.status_code == 503
        assert caught.value.details == {"service": "svc", "instances": 3}
    else:
        assert {instances.choose().instance_id for _ in range(6)} == {m.instance_id for m in members}


def test_a_discovery_only_service_without_instances_fails_fast() -> None:
    with pytest.raises(NoHealthyUpstream):
        UpstreamSet("svc", [], policy=UpstreamPolicy(when_all_unhealthy="panic")).choose()


def test_discovered_instances_join_refresh_expire_and_leave() -> None:
    clock = Clock()
    instances = UpstreamSet("svc", static(1), clock=clock)
    joined = instances.announce(record("h:1:9", "http://10.1.0.1:81"), ttl_s=3)
    assert joined is not None
    assert (joined.source, joined.weight, joined.version) == ("discovered", 2, "1.2")
    assert len(instances) == 2
    clock.now += 2
    assert instances.announce(record("h:1:9", "http://10.1.0.1:81"), ttl_s=3) is joined  # refreshed
    clock.now += 2.5
    assert instances.expire() == []
    clock.now += 1
    assert instances.expire() == [joined]
    assert [u.source for u in instances] == ["static"]
    instances.announce(record("h:1:9", "http://10.1.0.1:81"), ttl_s=3)
    assert instances.leave("h:1:9", "deregistered") is not None
    assert len(instances) == 1


def test_a_static_instance_announcing_itself_stays_one_static_instance() -> None:
    members = [Upstream("svc", "localhost:5002", "http://localhost:5002", weight=4)]
    instances = UpstreamSet("svc", members)
    merged = instances.announce(record("box:5002:77", "http://127.0.0.1:5002"), ttl_s=3)
    assert merged is members[0]
    assert len(instances) == 1
    assert (merged.source, merged.weight, merged.version) == ("static", 4, "1.2")
    assert merged.last_heartbeat is not None
    assert instances.expire(time.monotonic() + 3600) == []  # the registry put it there: never expires


def test_resync_makes_discovered_exactly_what_redis_holds() -> None:
    instances = UpstreamSet("svc", [])
    instances.announce(record("a", "http://10.1.0.1:80"), ttl_s=3)
    instances.announce(record("b", "http://10.1.0.2:80"), ttl_s=3)
    removed = instances.resync(
        {"b": (record("b", "http://10.1.0.2:80"), 2.0), "c": (record("c", "http://10.1.0.3:80"), 1.0)}
    )
    assert [u.instance_id for u in removed] == ["a"]
    assert [u.instance_id for u in instances] == ["b", "c"]


def test_discovered_instances_are_capped() -> None:
    instances = UpstreamSet("svc", [], max_discovered=2)
    for n in range(5):
        instances.announce(record(f"i{n}", f"http://10.1.0.{n}:80"), ttl_s=3)
    assert len(instances) == 2
    assert instances.refused == 3


def test_a_gone_address_is_reported_only_when_no_service_uses_it() -> None:
    gone: list[str] = []
    a = UpstreamSet("a", [Upstream("a", "x:1", "http://x:1")])
    b = UpstreamSet("b", [])
    upstreams = Upstreams([a, b], on_address_gone=gone.append)
    shared = b.announce(InstanceRecord("b", "b1", "http://x:1"), ttl_s=3)
    own = b.announce(InstanceRecord("b", "b2", "http://y:2"), ttl_s=3)
    upstreams.released([b.leave("b1", "t"), b.leave("b2", "t")])  # type: ignore[list-item]
    assert (shared, own) != (None, None)
    assert gone == ["http://y:2"]


def test_build_upstreams_reads_the_registry_and_environment() -> None:
    registry = ServiceRegistry()
    registry.register_service(name="svc", port=5010, endpoints=["/svc"], instances=[("10.0.0.1:1", 5)])
    registry.register_service(name="other", port=5011, endpoints=["/other"])
    upstreams = build_upstreams(registry, max_discovered=8, environ={"OTHER_URL": "http://a:1,http://b:2"})
    assert [(u.instance_id, u.weight) for u in upstreams["svc"]] == [("10.0.0.1:1", 5)]
    assert [u.base_url for u in upstreams["other"]] == ["http://a:1", "http://b:2"]


# --- the select_upstream step -----------------------------------------------------------------


def exchange_for(registry: ServiceRegistry) -> Exchange:
    definition = registry.get("svc")
    assert definition is not None
    return Exchange(
        request_id="rid",
        method="GET",
        path="/svc",
        raw_path="/svc",
        query="",
        headers=[],
        body=io.BytesIO(b""),
        content_length=None,
        chunked=False,
        client_addr="127.0.0.1",
        scheme="http",
        host="gw",
        started=time.perf_counter(),
        route=Route("/svc", definition),
    )


@pytest.fixture
def registry() -> ServiceRegistry:
    reg = ServiceRegistry()
    reg.register_service(name="svc", port=5010, endpoints=["/svc"], instances=["10.0.0.1:1"])
    return reg


def test_select_upstream_holds_in_flight_until_the_answer_is_closed(registry: ServiceRegistry) -> None:
    upstreams = build_upstreams(registry, max_discovered=8)
    only = next(iter(upstreams["svc"]))
    step = select_upstream(upstreams)
    seen: list[Upstream | None] = []

    def answer(exchange: Exchange) -> ProxyResponse:
        seen.append(exchange.upstream)
        return ProxyResponse(200, "OK", [], [b"x"])

    response = step(exchange_for(registry), answer)
    assert seen == [only]
    assert only.in_flight == 1
    body = ResponseBody(response)
    list(body)
    body.close()
    assert only.in_flight == 0


def test_select_upstream_gives_the_count_back_on_errors(registry: ServiceRegistry) -> None:
    upstreams = build_upstreams(registry, max_discovered=8)
    only = next(iter(upstreams["svc"]))

    def fail(_exchange: Exchange) -> ProxyResponse:
        raise ServiceUnavailable("down")

    with pytest.raises(ServiceUnavailable):
        select_upstream(upstreams)(exchange_for(registry), fail)
    assert only.in_flight == 0
    only.healthy = False
    with pytest.raises(NoHealthyUpstream):
        select_upstream(upstreams)(exchange_for(registry), fail)
    assert only.in_flight == 0
