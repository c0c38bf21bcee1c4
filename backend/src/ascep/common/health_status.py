"""Health statuses and the two rules that combine them, defined once for every service.

* :func:`worst` — one service's ``/health`` from its own checks: any failing check makes the
  service as bad as that check (a dead price subscription is a dead arbitrage service).
* :func:`overall_status` — the platform's status from its services' (the gateway's
  ``/api/health`` and the health monitor's report): one dead service only *degrades* the
  platform, which is ``unhealthy`` when no service is usable.

``starting`` (a service in its start-up grace) counts as not healthy; ``unknown`` (not checked
yet) does not count at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

HealthStatus = Literal["healthy", "degraded", "unhealthy"]

_SEVERITY: dict[str, int] = {"healthy": 0, "degraded": 1, "unhealthy": 2}

#: A service that has not been checked yet: left out of :func:`overall_status`.
UNKNOWN = "unknown"


def severity(status: str) -> int:
    """How bad ``status`` is (``healthy`` 0 < ``degraded`` 1 < ``unhealthy`` 2)."""
    return _SEVERITY[status]


def worst(statuses: Iterable[str]) -> HealthStatus:
    """The most severe of ``statuses`` (``healthy`` when there are none: no check is failing)."""
    result: HealthStatus = "healthy"
    for status in statuses:
        if _SEVERITY[status] > _SEVERITY[result]:
            result = status  # type: ignore[assignment]
    return result


def overall_status(service_statuses: Iterable[str], *, redis_ok: bool = True) -> HealthStatus:
    """The platform's status from its services' statuses and whether Redis answers.

    * ``healthy``   — every service healthy and Redis reachable;
    * ``unhealthy`` — every service unhealthy (none is usable);
    * ``degraded``  — anything in between (a service still ``starting``, or Redis down while
      some service still works).

    No service known (none registered, or none checked yet): nothing is failing, so ``healthy``
    while Redis answers — and ``unhealthy`` when Redis is down too, since then nothing at all is
    usable. Callers that do not watch Redis (the health monitor) leave ``redis_ok`` at ``True``.
    """
    known = [s for s in service_statuses if s != UNKNOWN]
    if not known:
        return "healthy" if redis_ok else "unhealthy"
    if all(s == "unhealthy" for s in known):
        return "unhealthy"
    if redis_ok and all(s == "healthy" for s in known):
        return "healthy"
    return "degraded"
