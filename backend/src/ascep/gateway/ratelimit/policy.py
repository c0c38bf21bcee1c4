"""A limit in force (:class:`Policy`), one request's verdict (:class:`Decision`), and their headers.

Headers follow draft-ietf-httpapi-ratelimit-headers (revision 11, May 2026): both fields are
Structured Field lists whose items are the policy's name as a String with parameters,

* ``RateLimit-Policy: "price_feed";q=20;w=2`` — the quota ``q`` (requests) per window ``w``
  (whole seconds, at least 1); the same on every answer under that policy;
* ``RateLimit: "price_feed";r=7;t=1`` — ``r`` requests left now, and ``t``, the seconds within
  which no more than ``r`` can be used (until the quota grows again).

A refusal adds ``Retry-After`` equal to ``t`` (the draft: it must not point earlier than the end
of the effective window). Decided without Redis, ``RateLimit`` is left out: nothing is known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final, Literal

from ascep.gateway.ratelimit.spec import LimitSpec

Source = Literal["default", "registration", "override", "setting"]
Outcome = Literal["allowed", "limited", "failed_open", "failed_closed"]
OUTCOMES: Final[tuple[Outcome, ...]] = ("allowed", "limited", "failed_open", "failed_closed")

POLICY_HEADER: Final = "RateLimit-Policy"
STATE_HEADER: Final = "RateLimit"


@dataclass(frozen=True, slots=True)
class Policy:
    """The limit one target (a service, ``gateway``, ``socketio``) is under, and where it came from."""

    name: str
    spec: LimitSpec
    source: Source
    header: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        # Names are lower_snake_case (registry names, "gateway", "socketio"): nothing to escape.
        if self.spec.enabled:
            header = f'"{self.name}";q={self.spec.quota};w={self.spec.window_s}'
            object.__setattr__(self, "header", header)

    def describe(self) -> dict[str, object]:
        if not self.spec.enabled:
            return {"limit": "off", "source": self.source}
        return {
            "limit": str(self.spec),
            "source": self.source,
            "quota": self.spec.quota,
            "window_seconds": self.spec.window_us / 1_000_000,
            "rate_per_second": self.spec.count / self.spec.period_s,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """What the limiter said about one request."""

    policy: Policy
    outcome: Outcome
    remaining: int | None = None  # None: decided without Redis
    wait_s: int = 1  # seconds until the quota grows (RateLimit t; Retry-After when refused)

    @property
    def allowed(self) -> bool:
        return self.outcome in ("allowed", "failed_open")

    def headers(self) -> list[tuple[str, str]]:
        """The headers every answer under this decision carries (refusals add ``Retry-After``)."""
        found = [(POLICY_HEADER, self.policy.header)]
        if self.remaining is not None:
            found.append((STATE_HEADER, f'"{self.policy.name}";r={self.remaining};t={self.wait_s}'))
        if not self.allowed:
            found.append(("Retry-After", str(max(1, self.wait_s))))
        return found


def whole_seconds(wait_us: float) -> int:
    """Microseconds to the whole seconds a header carries, rounded up (never promise too early)."""
    return max(0, math.ceil(wait_us / 1_000_000))
