"""Limit specs: what they mean for both algorithms, and every hostile spelling refused with a reason."""

from __future__ import annotations

import pytest

from ascep.common.errors import ConfigError, RegistrationError
from ascep.gateway.ratelimit.policy import Decision, Policy
from ascep.gateway.ratelimit.spec import OFF, LimitSpecError, parse_limit
from ascep.gateway.ratelimit.wiring import base_policies
from ascep.gateway.routing import ServiceRegistry
from ascep.gateway.settings import GatewaySettings


@pytest.mark.parametrize(
    ("text", "canonical", "quota", "window_s", "emission_ms"),
    [
        ("100/60s", "100/60s", 100, 60, 600.0),
        ("10/s burst 20", "10/s burst 20", 20, 2, 100.0),
        ("5/m", "5/m", 5, 60, 12_000.0),
        ("1000/h", "1000/h", 1000, 3600, 3600.0),
        ("  7 / 2S  BURST 3 ", "7/2s burst 3", 3, 1, 2000 / 7),
        ("1/d", "1/d", 1, 86_400, 86_400_000.0),
        ("10/s burst 1", "10/s burst 1", 1, 1, 100.0),
    ],
)
def test_valid_specs(text: str, canonical: str, quota: int, window_s: int, emission_ms: float) -> None:
    spec = parse_limit(text)
    assert str(spec) == canonical
    assert spec.quota == quota
    assert spec.window_s == window_s
    assert spec.emission_us / 1000 == pytest.approx(emission_ms)
    assert parse_limit(str(spec)) == spec  # the canonical text reads back the same


@pytest.mark.parametrize("text", ["off", "OFF", " off "])
def test_off(text: str) -> None:
    assert parse_limit(text) is OFF
    assert not OFF.enabled
    assert str(OFF) == "off"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "100",
        "/s",
        "100/",
        "0/s",
        "-1/s",
        "+5/s",
        "1e3/s",
        "10.5/s",
        "NaN/s",
        "inf/s",
        "10/0s",
        "10/1.5s",
        "10/ms",
        "10/ss",
        "10/week",
        "10/2d",  # period over a day
        "2000000/s",  # count over the bound
        "10/s burst 0",
        "10/s burst -5",
        "10/s burst",
        "10/s burst 20 burst 30",
        "10/s burst 2000000",
        "1/h burst 100",  # a burst that takes 100 h to come back
        "\u0661\u0660/s",  # Arabic-Indic digits: int() would accept them
        "10/s; rm -rf /",
        "10/s\nburst 5",
        "10/s\x00",
        "9" * 100 + "/s",  # longer than the limit
    ],
)
def test_hostile_specs_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(LimitSpecError) as caught:
        parse_limit(text)
    assert str(caught.value)
    assert len(str(caught.value)) < 400  # never echoes an unbounded input


@pytest.mark.parametrize("value", [None, 10, 1.5, ["10/s"], {"limit": "10/s"}, b"10/s"])
def test_non_strings_are_refused_without_echo(value: object) -> None:
    with pytest.raises(LimitSpecError, match="must be a string"):
        parse_limit(value)


def test_sliding_window_refuses_a_quota_it_cannot_keep_a_log_of() -> None:
    parse_limit("10000/s").check_sliding_window()
    with pytest.raises(LimitSpecError, match="sliding window"):
        parse_limit("10001/h").check_sliding_window()


def test_headers_follow_the_draft() -> None:
    policy = Policy("price_feed", parse_limit("10/s burst 20"), "default")
    assert policy.header == '"price_feed";q=20;w=2'
    allowed = Decision(policy, "allowed", remaining=7, wait_s=1)
    assert allowed.headers() == [
        ("RateLimit-Policy", '"price_feed";q=20;w=2'),
        ("RateLimit", '"price_feed";r=7;t=1'),
    ]
    limited = Decision(policy, "limited", remaining=0, wait_s=3)
    assert ("Retry-After", "3") in limited.headers()
    failed_closed = Decision(policy, "failed_closed")
    assert failed_closed.headers() == [("RateLimit-Policy", '"price_feed";q=20;w=2'), ("Retry-After", "1")]
    assert Decision(policy, "failed_open").headers() == [("RateLimit-Policy", '"price_feed";q=20;w=2')]


def test_registration_takes_a_limit_and_refuses_a_bad_one() -> None:
    registry = ServiceRegistry()
    definition = registry.register_service("svc", 5010, ["/svc"], rate_limit="10/s burst 20")
    assert str(definition.rate_limit) == "10/s burst 20"
    assert definition.describe()["rate_limit"] == "10/s burst 20"
    with pytest.raises(RegistrationError, match=r"register_service\(rate_limit=...\)"):
        registry.register_service("bad", 5011, ["/bad"], rate_limit="10/0s")
    with pytest.raises(RegistrationError, match="reserved"):
        registry.register_service("gateway", 5012, ["/gw"])
    with pytest.raises(RegistrationError, match="reserved"):
        registry.register_service("socketio", 5013, ["/sio"])


def test_policies_come_from_registration_else_the_default() -> None:
    registry = ServiceRegistry()
    registry.register_service("own", 5010, ["/own"], rate_limit="5/m")
    registry.register_service("free", 5011, ["/free"], rate_limit="off")
    registry.register_service("plain", 5012, ["/plain"])
    policies = base_policies(registry, GatewaySettings.load({}, environ={}))
    assert (str(policies["own"].spec), policies["own"].source) == ("5/m", "registration")
    assert not policies["free"].spec.enabled
    assert (str(policies["plain"].spec), policies["plain"].source) == ("10/s burst 20", "default")
    assert str(policies["gateway"].spec) == "10/s burst 20"
    assert str(policies["socketio"].spec) == "1/s burst 20"


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"RATE_LIMIT": "10/0s"}, "RATE_LIMIT"),
        ({"RATE_LIMIT_SOCKETIO": "lots"}, "RATE_LIMIT_SOCKETIO"),
        ({"RATE_LIMIT": "20000/h", "RATE_LIMIT_ALGORITHM": "sliding_window"}, "RATE_LIMIT"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_it(overrides: dict[str, str], setting: str) -> None:
    with pytest.raises(ConfigError) as caught:
        base_policies(ServiceRegistry(), GatewaySettings.load(overrides, environ={}))
    assert caught.value.setting == setting


def test_a_registration_the_algorithm_cannot_run_stops_start_up() -> None:
    registry = ServiceRegistry()
    registry.register_service("big", 5010, ["/big"], rate_limit="50000/h")
    with pytest.raises(RegistrationError, match="'big'"):
        base_policies(registry, GatewaySettings.load({"RATE_LIMIT_ALGORITHM": "sliding_window"}, environ={}))
