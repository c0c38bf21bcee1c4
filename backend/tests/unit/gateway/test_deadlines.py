"""Deadlines alone: the registration's timeouts (validated at import) and the client's header."""

from __future__ import annotations

import pytest

from ascep.common.errors import BadRequest, RegistrationError
from ascep.gateway.proxy.deadlines import parse_request_timeout, set_deadline
from ascep.gateway.proxy.exchange import Exchange
from ascep.gateway.routing import Route, ServiceRegistry
from ascep.gateway.upstreams.policy import UpstreamPolicy

from .test_steps import make_exchange, ok

POLICY = UpstreamPolicy(timeout_s=2.0, endpoint_timeouts={"/svc/a": 0.5, "/svc/a/b": 0.2})


@pytest.mark.parametrize(
    ("path", "seconds"),
    [("/svc", 2.0), ("/svc/a", 0.5), ("/svc/a/x", 0.5), ("/svc/a/b/c", 0.2), ("/svc/ab", 2.0)],
)
def test_the_longest_endpoint_prefix_wins(path: str, seconds: float) -> None:
    assert POLICY.deadline_s(path, 30.0) == seconds


def test_without_timeouts_the_setting_applies() -> None:
    assert UpstreamPolicy().deadline_s("/svc", 30.0) == 30.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout_s": 0},
        {"timeout_s": "1"},
        {"endpoint_timeouts": {"svc": 1.0}},
        {"endpoint_timeouts": {"/svc": -1}},
        {"endpoint_timeouts": [("/svc", 1.0)]},
        {"max_attempts": 0},
        {"max_attempts": 11},
    ],
)
def test_impossible_deadlines_fail_at_import(kwargs: dict) -> None:
    with pytest.raises(RegistrationError):
        UpstreamPolicy(**kwargs)


def test_an_endpoint_timeout_outside_the_service_is_a_typo() -> None:
    with pytest.raises(RegistrationError, match="not under"):
        ServiceRegistry().register_service(
            name="svc", port=1, endpoints=["/svc"], policy=UpstreamPolicy(endpoint_timeouts={"/other": 1.0})
        )


def test_the_policy_cannot_be_changed_after_registration() -> None:
    timeouts = {"/svc": 1.0}
    policy = UpstreamPolicy(endpoint_timeouts=timeouts)
    timeouts["/svc"] = 99.0
    assert policy.deadline_s("/svc", 30.0) == 1.0
    with pytest.raises(TypeError):
        policy.endpoint_timeouts["/svc"] = 5.0  # type: ignore[index]


@pytest.mark.parametrize(("raw", "seconds"), [("2", 2.0), ("0.25", 0.25), (".5", 0.5), (" 1.5 ", 1.5)])
def test_request_timeout_parses_plain_decimals(raw: str, seconds: float) -> None:
    assert parse_request_timeout(raw) == seconds


@pytest.mark.parametrize("raw", ["", "0", "-1", "+1", "1e3", "inf", "nan", "1_0", "\u0661", "0x10"])
def test_request_timeout_rejects_the_rest(raw: str) -> None:
    with pytest.raises(BadRequest):
        parse_request_timeout(raw)


def _routed(headers: list[tuple[str, str]]) -> Exchange:
    registry = ServiceRegistry()
    definition = registry.register_service(name="svc", port=1, endpoints=["/svc"], policy=POLICY)
    exchange = make_exchange("/svc/a/x", headers=headers)
    exchange.route = Route("/svc", definition)
    return exchange


@pytest.mark.parametrize(("header", "seconds"), [(None, 0.5), ("0.1", 0.1), ("60", 0.5)])
def test_a_client_may_shorten_never_lengthen(header: str | None, seconds: float) -> None:
    exchange = _routed([("X-Request-Timeout", header)] if header else [])
    set_deadline(30.0)(exchange, ok)
    assert exchange.deadline == pytest.approx(exchange.started + seconds)
