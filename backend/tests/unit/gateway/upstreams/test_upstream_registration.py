"""``register_service`` instances, ``<NAME>_URL`` lists and the upstream policy, validated at import."""

from __future__ import annotations

import pytest

from ascep.common.errors import RegistrationError
from ascep.gateway.routing import Instance, ServiceRegistry
from ascep.gateway.upstreams.instances import build_upstreams
from ascep.gateway.upstreams.policy import BreakerPolicy, OutlierPolicy, UpstreamPolicy


def register(**kwargs: object) -> object:
    args: dict = {"name": "svc", "port": 5010, "endpoints": ["/svc"], **kwargs}
    return ServiceRegistry().register_service(**args)


def test_the_one_line_registration_is_one_static_instance_with_default_policy() -> None:
    definition = register()
    assert definition.static_instances({}) == (Instance("localhost:5010"),)
    assert definition.policy == UpstreamPolicy()
    assert definition.policy.load_balancing == "least_request"


def test_instances_take_strings_pairs_urls_and_instances() -> None:
    definition = register(
        instances=[
            "10.0.0.1:5010",
            ("10.0.0.2:5010", 3),
            "https://api.example.com:8443",
            Instance("[::1]:9", 2),
        ]
    )
    found = definition.static_instances({})
    assert [(i.base_url, i.weight) for i in found] == [
        ("http://10.0.0.1:5010", 1),
        ("http://10.0.0.2:5010", 3),
        ("https://api.example.com:8443", 1),
        ("http://[::1]:9", 2),
    ]


def test_an_empty_instance_list_means_discovery_only() -> None:
    assert register(instances=[]).static_instances({}) == ()


def test_name_url_may_list_several_comma_separated_urls() -> None:
    definition = register(instances=["10.0.0.1:1"])
    env = {"SVC_URL": "http://127.0.0.1:7001, http://127.0.0.1:7002/,https://h:7003"}
    urls = [i.base_url for i in definition.static_instances(env)]
    assert urls == ["http://127.0.0.1:7001", "http://127.0.0.1:7002", "https://h:7003"]
    assert definition.base_url(env) == "http://127.0.0.1:7001"


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ("http://a:1,ftp://b:2", "not an http"),
        ("http://a:1,http://a:1", "listed twice"),
        ("http://a:1,http://b:2/sub", "no path"),
    ],
)
def test_a_bad_url_list_names_the_variable(env: str, reason: str) -> None:
    with pytest.raises(RegistrationError, match=reason) as caught:
        register().static_instances({"SVC_URL": env})
    assert caught.value.argument == "SVC_URL"


@pytest.mark.parametrize(
    "instances",
    [
        "10.0.0.1:5010",
        ["10.0.0.1"],
        ["10.0.0.1:0"],
        ["10.0.0.1:70000"],
        ["bad host:1"],
        ["user@host:1"],
        [("10.0.0.1:1", 0)],
        [("10.0.0.1:1", 1001)],
        [("10.0.0.1:1", True)],
        ["10.0.0.1:1", "10.0.0.1:1"],
        [42],
    ],
)
def test_bad_instances_stop_the_registration(instances: object) -> None:
    with pytest.raises(RegistrationError) as caught:
        register(instances=instances)
    assert caught.value.argument == "instances"


def test_load_balancing_is_a_shortcut_for_the_policy_field() -> None:
    assert register(load_balancing="weighted").policy.load_balancing == "weighted"
    breaker = BreakerPolicy(minimum_volume=5)
    definition = register(load_balancing="round_robin", policy=UpstreamPolicy(breaker=breaker))
    assert definition.policy.load_balancing == "round_robin"
    assert definition.policy.breaker.minimum_volume == 5


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"load_balancing": "random"}, "load_balancing"),
        (
            {"load_balancing": "weighted", "policy": UpstreamPolicy(load_balancing="round_robin")},
            "load_balancing",
        ),
        ({"policy": {"load_balancing": "weighted"}}, "policy"),
    ],
)
def test_bad_policy_arguments_are_named(kwargs: dict, argument: str) -> None:
    with pytest.raises(RegistrationError) as caught:
        register(**kwargs)
    assert caught.value.argument == argument


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: UpstreamPolicy(load_balancing="fastest"), "load_balancing"),  # type: ignore[arg-type]
        (lambda: UpstreamPolicy(when_all_unhealthy="random"), "when_all_unhealthy"),  # type: ignore[arg-type]
        (lambda: UpstreamPolicy(read_timeout_s=0), "read_timeout_s"),
        (lambda: OutlierPolicy(max_ejected_share=1.5), "max_ejected_share"),
        (lambda: OutlierPolicy(base_ejection_s=60, max_ejection_s=30), "max_ejection_s"),
        (lambda: BreakerPolicy(failure_rate=0), "failure_rate"),
        (lambda: BreakerPolicy(half_open_probes=2.5), "half_open_probes"),  # type: ignore[arg-type]
        (lambda: BreakerPolicy(minimum_volume=True), "minimum_volume"),
    ],
)
def test_an_impossible_policy_fails_when_built_naming_the_field(build: object, field: str) -> None:
    with pytest.raises(RegistrationError, match=field) as caught:
        build()  # type: ignore[operator]
    assert caught.value.argument == "policy"


def test_policy_defaults_are_the_documented_ones() -> None:
    policy = UpstreamPolicy()
    assert (policy.health_check.interval_s, policy.health_check.rise, policy.health_check.fall) == (2.0, 2, 3)
    outlier = policy.outlier
    assert (outlier.consecutive_failures, outlier.base_ejection_s, outlier.max_ejection_s) == (5, 30.0, 300.0)
    assert outlier.max_ejected_share == 0.34
    breaker = policy.breaker
    assert (breaker.window_s, breaker.failure_rate, breaker.minimum_volume) == (10.0, 0.5, 20)
    assert (breaker.open_s, breaker.half_open_probes) == (5.0, 3)
    assert policy.timeouts(2.0, 10.0) == (2.0, 10.0)
    assert UpstreamPolicy(read_timeout_s=0.5).timeouts(2.0, 10.0) == (2.0, 0.5)
    assert policy.when_all_unhealthy == "fail"


def test_a_static_instance_carries_its_version_to_selection() -> None:
    registry = ServiceRegistry()
    registry.register_service(
        name="svc",
        port=1,
        endpoints=["/svc"],
        instances=[Instance("a:1", version="v1"), Instance("b:1", version="v2")],
    )
    members = build_upstreams(registry, max_discovered=1, environ={})["svc"].members
    assert [(u.instance_id, u.version) for u in members] == [("a:1", "v1"), ("b:1", "v2")]
    with pytest.raises(RegistrationError):
        Instance("a:1", version="v" * 65)
