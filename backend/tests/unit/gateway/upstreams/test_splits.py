"""Traffic splits: sticky bucket assignment, monotone growth, validation, forcing, rollback verdicts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ascep.common.errors import BadGateway, BadRequest, CircuitOpen, ValidationFailed
from ascep.gateway.proxy.exchange import Exchange, ProxyResponse
from ascep.gateway.routing import Route, ServiceRegistry
from ascep.gateway.upstreams.instances import UpstreamSet
from ascep.gateway.upstreams.model import Upstream
from ascep.gateway.upstreams.rollback import ArmTotals, RollbackPolicy, WindowTotals, judge
from ascep.gateway.upstreams.split_step import SplitCounters, SplitTable, key_resolver, split_traffic
from ascep.gateway.upstreams.splits import BASIS_POINTS, Split, bucket, parse_split

KEYS = [f"user-{i}" for i in range(100_000)]


def split(canary_bp: int, salt: str = "price_feed") -> Split:
    return Split("price_feed", "v1", "v2", canary_bp, salt, generation=7)


def test_100k_keys_split_90_10_land_within_one_percentage_point() -> None:
    s = split(1000)
    canary = sum(1 for key in KEYS if s.arm_for(key) == "canary")
    assert abs(canary / len(KEYS) - 0.10) <= 0.01, canary


@pytest.mark.parametrize(("low", "high"), [(500, 2000), (0, 1), (2000, 5000), (9999, 10_000)])
def test_raising_the_canary_moves_no_canary_key_back_to_stable(low: int, high: int) -> None:
    before, after = split(low), split(high)
    was_canary = {key for key in KEYS if before.arm_for(key) == "canary"}
    now_canary = {key for key in KEYS if after.arm_for(key) == "canary"}
    assert was_canary <= now_canary, f"{len(was_canary - now_canary)} canary keys went back to stable"
    # and it grew by what was asked (keys only added, roughly the new share)
    assert abs(len(now_canary) / len(KEYS) - high / BASIS_POINTS) <= 0.01


def test_assignment_is_deterministic_across_calls_salts_and_processes() -> None:
    s = split(3000)
    first = [s.arm_for(key) for key in KEYS[:2000]]
    assert first == [s.arm_for(key) for key in KEYS[:2000]]
    # another interpreter with another hash seed computes the same buckets (not Python's hash())
    code = (
        "from ascep.gateway.upstreams.splits import bucket; "
        "print([bucket('price_feed', f'user-{i}') for i in range(300)])"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == str([bucket("price_feed", f"user-{i}") for i in range(300)])
    # golden values: a change of the hash would silently move every user of a live canary
    assert [bucket("price_feed", k) for k in ("alice", "bob")] == [1990, 7771]


def test_the_salt_decorrelates_services() -> None:
    a, b = split(1000, salt="price_feed"), split(1000, salt="arbitrage")
    both = sum(1 for key in KEYS if a.arm_for(key) == "canary" and b.arm_for(key) == "canary")
    assert 0.005 <= both / len(KEYS) <= 0.015  # ~1 % = 10 % x 10 %: independent, not the same 10 %


# --- the proxy step ---------------------------------------------------------------------------


def exchange(headers: list[tuple[str, str]] | None = None, client: str = "10.1.1.1") -> Exchange:
    registry = ServiceRegistry()
    definition = registry.register_service(name="price_feed", port=1, endpoints=["/prices"])
    ex = Exchange(
        "r", "GET", "/prices", "/prices", "", headers or [], None, None, False, client, "http", "h", 0.0
    )
    ex.route = Route("/prices", definition)
    return ex


def run_step(ex: Exchange, s: Split | None, counters: SplitCounters | None = None) -> Exchange:
    table = SplitTable()
    if s is not None:
        table.replace({s.service: s})
    step = split_traffic(table, counters or SplitCounters(), key_resolver("X-User-ID"))
    step(ex, lambda _e: ProxyResponse(200, "OK", [], []))
    return ex


@pytest.mark.parametrize(
    ("header", "versions"),
    [("always", ("v2", "v1")), ("ALWAYS", ("v2", "v1")), ("never", ("v1",))],
)
def test_x_canary_forces_an_arm_whatever_the_weight(header: str, versions: tuple[str, ...]) -> None:
    for canary_bp in (0, 10_000):
        assert run_step(exchange([("X-Canary", header)]), split(canary_bp)).versions == versions


def test_an_unknown_x_canary_value_is_a_400_naming_the_header() -> None:
    with pytest.raises(BadRequest) as raised:
        run_step(exchange([("X-Canary", "sometimes")]), split(1000))
    assert raised.value.details == {"header": "X-Canary", "allowed": ["always", "never"]}


def test_the_key_is_the_user_header_else_the_client_address() -> None:
    s = split(5000)
    user = next(k for k in KEYS if s.arm_for(k) == "canary")
    ip = next(f"10.0.0.{i}" for i in range(256) if s.arm_for(f"10.0.0.{i}") == "stable")
    assert run_step(exchange([("X-User-ID", user)], client=ip), s).versions == ("v2", "v1")
    assert run_step(exchange(client=ip), s).versions == ("v1",)


def test_the_principal_hook_takes_precedence_over_the_header() -> None:
    s = split(5000)
    canary_key = next(k for k in KEYS if s.arm_for(k) == "canary")
    stable_key = next(k for k in KEYS if s.arm_for(k) == "stable")
    key_of = key_resolver("X-User-ID", principal_of=lambda _e: canary_key)
    assert key_of(exchange([("X-User-ID", stable_key)])) == canary_key


def test_without_a_split_the_step_leaves_selection_alone() -> None:
    assert run_step(exchange([("X-Canary", "bogus")]), None).versions == ()


def test_counts_by_served_arm_skip_forced_and_gateway_refusals() -> None:
    s = split(5000)
    counters = SplitCounters()
    table = SplitTable()
    table.replace({s.service: s})
    step = split_traffic(table, counters, key_resolver("X-User-ID"))
    canary = Upstream("price_feed", "c:1", "http://c:1", version="v2")

    def answer(status: int):
        def call(ex: Exchange) -> ProxyResponse:
            ex.upstream = canary
            return ProxyResponse(status, "", [], [])

        return call

    def fail(error: Exception):
        def call(ex: Exchange) -> ProxyResponse:
            ex.upstream = canary
            raise error

        return call

    key = next(k for k in KEYS if s.arm_for(k) == "canary")
    for handler in (answer(200), answer(500), answer(404)):
        response = step(exchange([("X-User-ID", key)]), handler)
        for callback in response.close_callbacks:
            callback(response.status, False)
    with pytest.raises(BadGateway):
        step(exchange([("X-User-ID", key)]), fail(BadGateway("x")))
    with pytest.raises(CircuitOpen):  # the gateway's own refusal: not the canary's fault
        step(exchange([("X-User-ID", key)]), fail(CircuitOpen("open", {}, retry_after=1)))
    forced = step(exchange([("X-Canary", "always")]), answer(500))
    for callback in forced.close_callbacks:
        callback(500, False)
    assert counters.take("price_feed", 7) == {("canary", "requests"): 4, ("canary", "errors"): 2}
    assert counters.requests[("price_feed", "canary", "v2", "error")] == 3  # forced one included


# --- selection honours the arm ----------------------------------------------------------------


def versioned() -> list[Upstream]:
    return [
        Upstream("svc", "a:1", "http://a:1", version="v1"),
        Upstream("svc", "b:1", "http://b:1", version="v1"),
        Upstream("svc", "c:1", "http://c:1", version="v2"),
    ]


def test_choose_picks_among_the_arms_version_then_falls_back_to_stable_then_to_all() -> None:
    members = versioned()
    instances = UpstreamSet("svc", members)
    assert {instances.choose(versions=("v2", "v1")).instance_id for _ in range(50)} == {"c:1"}
    assert {instances.choose(versions=("v1",)).instance_id for _ in range(50)} == {"a:1", "b:1"}
    members[2].healthy = False  # the canary has no routable instance: stable serves its users
    assert {instances.choose(versions=("v2", "v1")).instance_id for _ in range(50)} == {"a:1", "b:1"}
    members[0].healthy = members[1].healthy = False
    members[2].healthy = True  # no stable instance either: the usual rule (here: the canary)
    assert instances.choose(versions=("v1",)).instance_id == "c:1"


def test_a_fallback_is_counted_for_the_assigned_arm() -> None:
    s = split(10_000)
    counters = SplitCounters()
    stable = Upstream("price_feed", "a:1", "http://a:1", version="v1")
    counters.count(s, "canary", stable, False, False)
    assert counters.fallbacks[("price_feed", "canary", "v2")] == 1
    assert counters.take("price_feed", 7) == {("stable", "requests"): 1}


# --- validation -------------------------------------------------------------------------------


def arms(*pairs: tuple[object, object]) -> dict[str, object]:
    return {"arms": [{"version": v, "basis_points": bp} for v, bp in pairs]}


def test_a_valid_body_becomes_a_split_with_the_service_as_default_salt() -> None:
    parsed = parse_split("price_feed", arms(("v1", 9000), ("v2", 1000)))
    assert (parsed.stable, parsed.canary, parsed.canary_bp, parsed.salt) == ("v1", "v2", 1000, "price_feed")
    assert parse_split("price_feed", {**arms(("v1", 0), ("v2", 10_000)), "salt": "s2"}).salt == "s2"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({"arms": []}, "arms"),
        (arms(("v1", 10_000)), "arms"),
        (arms(("v1", 5000), ("v2", 4000), ("v3", 1000)), "arms"),
        (arms(("v1", 9000), ("v2", 900)), "arms"),
        (arms(("v1", 5000), ("v1", 5000)), "arms"),
        (arms(("v1", 9000.0), ("v2", 1000)), "arms[0].basis_points"),
        (arms(("v1", True), ("v2", 1000)), "arms[0].basis_points"),
        (arms(("v1", 11_000), ("v2", -1000)), "arms[0].basis_points"),
        (arms(("", 9000), ("v2", 1000)), "arms[0].version"),
        (arms(("v1", 9000), ("v 2", 1000)), "arms[1].version"),
        ({"arms": [{"version": "v1"}, {"version": "v2", "basis_points": 1}]}, "arms[0]"),
        ({**arms(("v1", 9000), ("v2", 1000)), "salt": ""}, "salt"),
        ({**arms(("v1", 9000), ("v2", 1000)), "weights": 1}, "weights"),
    ],
)
def test_an_invalid_body_is_a_422_naming_the_field(body: object, field: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_split("price_feed", body)
    assert raised.value.details["field"] == field


def test_a_stored_record_round_trips() -> None:
    s = Split("price_feed", "v1", "v2", 1000, "salt", generation=1_764_550_000_123, updated_at="t")
    assert Split.from_record(s.record()) == s


# --- rollback verdicts ------------------------------------------------------------------------

POLICY = RollbackPolicy(margin=0.02, min_requests=200, window_s=60)


@pytest.mark.parametrize(
    ("stable", "canary", "rolled_back"),
    [
        (ArmTotals(1000, 0), ArmTotals(199, 199), False),  # too few canary requests
        (ArmTotals(1000, 0), ArmTotals(200, 100), True),
        (ArmTotals(1000, 10), ArmTotals(200, 6), False),  # 3 % vs 1 %: exactly the margin, not over
        (ArmTotals(1000, 10), ArmTotals(200, 7), True),  # 3.5 % vs 1 %
        (ArmTotals(1000, 500), ArmTotals(400, 200), False),  # both fail alike: not the canary's fault
        (ArmTotals(0, 0), ArmTotals(200, 10), True),  # no stable traffic counts as error-free
    ],
)
def test_judge(stable: ArmTotals, canary: ArmTotals, rolled_back: bool) -> None:
    verdict = judge(WindowTotals(stable=stable, canary=canary), POLICY)
    assert (verdict is not None) == rolled_back
    if verdict is not None:
        assert verdict["requests"] == {"canary": canary.requests, "stable": stable.requests}
        assert verdict["canary_error_rate"] == round(canary.error_rate, 4)
        assert "percentage points" in verdict["reason"]


def test_a_retry_within_an_arm_avoids_the_instance_already_tried() -> None:
    members = versioned()
    instances = UpstreamSet("svc", members)
    assert {instances.choose(exclude={"a:1"}, versions=("v1",)).instance_id for _ in range(50)} == {"b:1"}
    # the arm's only instance was tried: the retry goes to it again rather than leave the arm
    assert instances.choose(exclude={"c:1"}, versions=("v2", "v1")).instance_id == "c:1"
