"""Is Redis usable for rate limiting right now? A local answer, so an outage costs no waiting.

The first call that fails (refused, reset, timed out after ``RATE_LIMIT_REDIS_TIMEOUT``) marks
Redis *down*: from then on every decision is made here at once (``RATE_LIMIT_FAIL``: let through,
or refuse) without touching the network, and a background loop pings Redis every
:data:`PROBE_INTERVAL_S` until it answers. A refused or reset connection fails in microseconds,
so with Redis killed no request waits at all; with Redis hung only the calls already waiting when
it stopped pay the timeout.

Each outage is logged once when it starts (WARNING, with the error and the fail mode) and once
when it ends (INFO, with its length and how many requests were decided without Redis), never
per request. The counts are in ``/metrics`` and ``/status``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

#: Seconds between pings while Redis is down (the longest a recovery goes unnoticed).
PROBE_INTERVAL_S = 0.25
_ERROR_TEXT_MAX = 300


class RedisOutage:
    """The limiter's view of Redis: up, or down since when; flipped by calls and by the probe."""

    def __init__(
        self,
        ping: Callable[[], Any],
        *,
        fail_open: bool,
        probe_interval: float = PROBE_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ping = ping
        self.fail_open = fail_open
        self.probe_interval = probe_interval
        self.clock = clock
        self.up = True
        self.down_since: float | None = None
        self.outages = 0
        self.decided_without_redis = 0  # requests decided locally over all outages
        self._this_outage = 0
        self.last_error: str | None = None
        self._stopping = False

    def failed(self, exc: BaseException) -> None:
        """A call could not reach Redis: from now on decide locally (logged once per outage)."""
        if not self.up:
            return
        self.up = False
        self.down_since = self.clock()
        self.outages += 1
        self._this_outage = 0
        self.last_error = f"{type(exc).__name__}: {exc}"[:_ERROR_TEXT_MAX]
        logger.warning(
            "rate limits: Redis unreachable (%s); until it answers every request is %s without a "
            "limit check (RATE_LIMIT_FAIL=%s)",
            self.last_error,
            "let through" if self.fail_open else "refused with 503",
            "open" if self.fail_open else "closed",
        )

    def decided_locally(self) -> None:
        self.decided_without_redis += 1
        self._this_outage += 1

    def succeeded(self) -> None:
        """Redis answered (a call or the probe): limits are checked there again."""
        if self.up:
            return
        lasted = self.clock() - (self.down_since or self.clock())
        self.up = True
        self.down_since = None
        logger.info(
            "rate limits: Redis answers again after %.1fs; %d requests were decided without it",
            lasted,
            self._this_outage,
        )

    def probe(self) -> bool:
        """Ping Redis once if it is down; ``True`` when it is up (now or already)."""
        if self.up:
            return True
        try:
            self.ping()
        except Exception as exc:  # any failure means "still down"; the outage is already logged
            self.last_error = f"{type(exc).__name__}: {exc}"[:_ERROR_TEXT_MAX]
            return False
        self.succeeded()
        return True

    def run(self, sleep: Callable[[float], Any]) -> None:
        """The background probe: while down, ping every ``probe_interval`` (a greenlet)."""
        while not self._stopping:
            try:
                self.probe()
            except Exception:  # never let the probe die: it is how an outage ends
                logger.exception("rate-limit Redis probe failed unexpectedly")
            sleep(self.probe_interval)

    def stop(self) -> None:
        self._stopping = True

    def status(self) -> dict[str, Any]:
        down_for = round(self.clock() - self.down_since, 3) if self.down_since is not None else None
        return {
            "redis_up": self.up,
            "down_for_seconds": down_for,
            "outages": self.outages,
            "decided_without_redis": self.decided_without_redis,
            "fail_mode": "open" if self.fail_open else "closed",
            "last_error": self.last_error,
        }
