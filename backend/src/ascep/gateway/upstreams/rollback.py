"""When a canary is rolled back automatically: the decision, as a pure function of the counts.

The counts are the requests and errors of each arm over the last ``window_s`` seconds of the
split's current generation, summed over every gateway process (:mod:`.split_store` merges them).
The canary is rolled back when, with at least ``min_requests`` canary requests in that window,
its error rate exceeds the stable arm's by more than ``margin`` (a fraction: 0.02 is two
percentage points). Comparing with the stable arm rather than with a fixed threshold keeps a
platform-wide problem (a dependency of both versions failing) from blaming the canary.

An error is what counts against an instance everywhere else (outlier detection, breakers): a 5xx
answer, a timeout, a refused or broken connection. 4xx answers are the client's; the gateway's
own refusals and requests that forced an arm with ``X-Canary`` are not counted at all. A stable
arm without requests in the window counts as error-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ascep.gateway.upstreams.splits import Arm

Kind = Literal["requests", "errors"]
#: (arm, "requests"|"errors") -> count: what one process adds to the shared window
Deltas = dict[tuple[Arm, Kind], int]


@dataclass(frozen=True, slots=True)
class ArmTotals:
    requests: int = 0
    errors: int = 0

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


@dataclass(frozen=True, slots=True)
class WindowTotals:
    """Both arms' counts over the rollback window (all gateway processes)."""

    stable: ArmTotals
    canary: ArmTotals

    def describe(self) -> dict[str, Any]:
        return {
            arm: {"requests": t.requests, "errors": t.errors, "error_rate": round(t.error_rate, 4)}
            for arm, t in (("stable", self.stable), ("canary", self.canary))
        }


@dataclass(frozen=True, slots=True)
class RollbackPolicy:
    """``SPLIT_ROLLBACK_*`` settings: margin as a fraction, minimum canary requests, window."""

    margin: float = 0.02
    min_requests: int = 200
    window_s: float = 60.0


def judge(totals: WindowTotals, policy: RollbackPolicy) -> dict[str, Any] | None:
    """The ``rolled_back`` record (without ``at``) if the canary must go, else ``None``."""
    canary, stable = totals.canary, totals.stable
    if canary.requests < policy.min_requests:
        return None
    excess = canary.error_rate - stable.error_rate
    if excess <= policy.margin:
        return None
    reason = (
        f"canary error rate {canary.error_rate:.1%} ({canary.errors} of {canary.requests}) exceeds "
        f"the stable arm's {stable.error_rate:.1%} ({stable.errors} of {stable.requests}) by "
        f"{excess * 100:.1f} percentage points (margin {policy.margin * 100:g}) over the last "
        f"{policy.window_s:g} s"
    )
    return {
        "reason": reason,
        "canary_error_rate": round(canary.error_rate, 4),
        "stable_error_rate": round(stable.error_rate, 4),
        "requests": {"canary": canary.requests, "stable": stable.requests},
        "errors": {"canary": canary.errors, "stable": stable.errors},
    }
