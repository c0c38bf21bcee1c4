"""One HTTP health check, as the gateway and the health monitor both perform it.

A 2xx whose ``status`` field says ``degraded`` or ``unhealthy`` is taken at its word; a 2xx
without one is healthy; an error status, a timeout or a refused connection is unhealthy. Never
raises: the outcome says what happened.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import requests

HealthStatus = Literal["healthy", "degraded", "unhealthy"]


@dataclass(frozen=True)
class HttpCheck:
    status: HealthStatus
    response_time_ms: float
    error: str | None = None
    http_status: int | None = None


def check_http(session: requests.Session, url: str, timeout: float) -> HttpCheck:
    """GET ``url`` within ``timeout`` seconds and interpret the answer."""
    started = time.perf_counter()
    status, error, http_status = _get(session, url, timeout)
    return HttpCheck(status, round((time.perf_counter() - started) * 1000, 3), error, http_status)


def _get(session: requests.Session, url: str, timeout: float) -> tuple[HealthStatus, str | None, int | None]:
    try:
        response = session.get(url, timeout=timeout)
    except requests.Timeout:
        return "unhealthy", f"no answer within {timeout}s", None
    except requests.ConnectionError:
        return "unhealthy", "unreachable", None
    except requests.RequestException as exc:
        return "unhealthy", type(exc).__name__, None
    if response.status_code >= 400:
        return "unhealthy", f"HTTP {response.status_code}", response.status_code
    try:
        reported = response.json().get("status")
    except (ValueError, AttributeError):
        reported = None
    if reported in ("degraded", "unhealthy"):
        return reported, None, response.status_code  # the service's own word, not a failure
    return "healthy", None, response.status_code


def health_session() -> requests.Session:
    """A session for health checks: connections reused, never through an HTTP proxy."""
    session = requests.Session()
    session.trust_env = False
    return session
