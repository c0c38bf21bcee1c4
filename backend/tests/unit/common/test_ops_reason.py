"""Every service's ``/health`` says why it is not healthy, in words, from its own checks."""

from __future__ import annotations

from typing import Any

import pytest

from ascep.common.healthcheck import REASON_MAX_CHARS, own_reason
from ascep.common.ops import CheckResult, get_ops, health_reason
from support.probe_app import probe_app


@pytest.mark.parametrize(
    ("checks", "reason"),
    [
        ({"feed": CheckResult("healthy", {"symbols": 3})}, None),
        (
            {"feed": CheckResult("degraded", "Binance not delivering; crypto from simulated")},
            "Binance not delivering; crypto from simulated",
        ),
        (
            {"store": CheckResult("degraded", {"reason": "Redis lost its data", "keys": 0})},
            "Redis lost its data",
        ),
        ({"loop": CheckResult("unhealthy", {"rounds": 0})}, "loop unhealthy"),
        (
            {
                "a": CheckResult("degraded", "slow"),
                "b": CheckResult("healthy"),
                "c": CheckResult("unhealthy", "dead"),
            },
            "dead; slow",  # worst first
        ),
    ],
)
def test_health_reason_is_made_of_the_failing_checks(
    checks: dict[str, CheckResult], reason: str | None
) -> None:
    assert health_reason(checks) == reason


def _client_with(check: CheckResult) -> Any:
    app = probe_app()
    get_ops(app).health_checks["feed"] = lambda: check
    return app.test_client()


def test_health_carries_the_reason_degraded_and_unhealthy() -> None:
    degraded = _client_with(CheckResult("degraded", "Binance not delivering")).get("/health")
    assert (degraded.status_code, degraded.json["status"]) == (200, "degraded")
    assert degraded.json["reason"] == "Binance not delivering"

    unhealthy = _client_with(CheckResult("unhealthy", "no price emitted for 60s")).get("/health")
    assert unhealthy.status_code == 503
    assert unhealthy.json["reason"] == "no price emitted for 60s"
    assert unhealthy.json["error"]["message"] == "probe is unhealthy: no price emitted for 60s"

    healthy = _client_with(CheckResult("healthy")).get("/health")
    assert healthy.json["reason"] is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"status": "degraded", "reason": " Binance down "}, "Binance down"),
        ({"error": {"code": "X", "message": "dead"}}, "dead"),
        ({"status": "degraded", "reason": ""}, None),
        ({"status": "degraded", "reason": 42}, None),
        (["not", "a", "dict"], None),
        ({"reason": "x" * 10_000}, "x" * (REASON_MAX_CHARS - 1) + "…"),
    ],
)
def test_own_reason_is_read_defensively_and_bounded(body: Any, reason: str | None) -> None:
    assert own_reason(body) == reason
