"""One rule for the platform's status, the gateway's and the monitor's alike; one for a service's checks."""

from __future__ import annotations

import pytest

from ascep.common.health_status import overall_status, worst


@pytest.mark.parametrize(
    ("statuses", "redis_ok", "expected"),
    [
        (["healthy", "unknown"], True, "healthy"),
        (["healthy", "degraded"], True, "degraded"),
        (["unhealthy", "healthy"], True, "degraded"),
        (["unhealthy", "unhealthy"], True, "unhealthy"),
        (["healthy", "starting"], True, "degraded"),
        (["healthy", "healthy"], False, "degraded"),
        (["unhealthy"], False, "unhealthy"),
        (["unknown", "unknown"], True, "healthy"),
        (["unknown"], False, "unhealthy"),
    ],
)
def test_overall_status(statuses: list[str], redis_ok: bool, expected: str) -> None:
    assert overall_status(statuses, redis_ok=redis_ok) == expected


def test_no_services_is_healthy_while_redis_answers_and_unhealthy_without_it() -> None:
    """The documented empty case: nothing is failing, unless Redis is down too (nothing usable)."""
    assert overall_status([]) == "healthy"
    assert overall_status([], redis_ok=True) == "healthy"
    assert overall_status([], redis_ok=False) == "unhealthy"


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [([], "healthy"), (["healthy"], "healthy"), (["healthy", "degraded"], "degraded"),
     (["degraded", "unhealthy", "healthy"], "unhealthy")],
)
def test_one_failing_check_makes_the_service_that_bad(statuses: list[str], expected: str) -> None:
    assert worst(statuses) == expected
