"""One HTTP health check, as the gateway and the health monitor both perform it.

A 2xx whose ``status`` field says ``degraded`` or ``unhealthy`` is taken at its word; a 2xx
without one is healthy; an error status, a timeout or a refused connection is unhealthy. Never
raises: the outcome says what happened.

Every outcome that is not healthy carries a ``reason`` in words: the service's own ``reason``
(what :mod:`ascep.common.ops` puts in every ``/health``) when it gave one, else what the check
saw (``unreachable``, ``HTTP 500``...). ``error`` stays the failure of the check itself, ``None``
when the service answered.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests

from ascep.common.health_status import HealthStatus

#: A reason longer than this is cut: it is shown on a dashboard card, and a service must not be
#: able to flood the monitor's history through it.
REASON_MAX_CHARS = 300

#: What a refused connection is called: the target is not listening (yet, or any more).
UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class HttpCheck:
    status: HealthStatus
    response_time_ms: float
    error: str | None = None
    http_status: int | None = None
    reason: str | None = None


def check_http(session: requests.Session, url: str, timeout: float) -> HttpCheck:
    """GET ``url`` within ``timeout`` seconds and interpret the answer."""
    started = time.perf_counter()
    status, error, http_status, said = _get(session, url, timeout)
    elapsed = round((time.perf_counter() - started) * 1000, 3)
    reason = None if status == "healthy" else said or error or f"reports {status}"
    return HttpCheck(status, elapsed, error, http_status, reason)


def _get(
    session: requests.Session, url: str, timeout: float
) -> tuple[HealthStatus, str | None, int | None, str | None]:
    try:
        response = session.get(url, timeout=timeout)
    except requests.Timeout:
        return "unhealthy", f"no answer within {timeout}s", None, None
    except requests.ConnectionError:
        return "unhealthy", UNREACHABLE, None, None
    except requests.RequestException as exc:
        return "unhealthy", type(exc).__name__, None, None
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    said = own_reason(body)
    if response.status_code >= 400:
        return "unhealthy", f"HTTP {response.status_code}", response.status_code, said
    reported = body.get("status") if isinstance(body, dict) else None
    if reported in ("degraded", "unhealthy"):
        return reported, None, response.status_code, said  # the service's own word, not a failure
    return "healthy", None, response.status_code, None


def own_reason(body: Any) -> str | None:
    """The ``reason`` a health body gives (else its error envelope's message), cut to size."""
    if not isinstance(body, dict):
        return None
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        error = body.get("error")
        reason = error.get("message") if isinstance(error, dict) else None
    if not isinstance(reason, str) or not reason.strip():
        return None
    reason = reason.strip()
    return reason if len(reason) <= REASON_MAX_CHARS else reason[: REASON_MAX_CHARS - 1] + "…"


def health_session() -> requests.Session:
    """A session for health checks: connections reused, never through an HTTP proxy."""
    session = requests.Session()
    session.trust_env = False
    return session
