"""Wall-clock helpers. Event times are epoch milliseconds (``ts``) plus ISO 8601 UTC with ``Z``."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso_utc(ts_ms: int | float | None = None) -> str:
    """``2026-11-23T10:15:30.123Z`` for ``ts_ms`` (default: now)."""
    if ts_ms is None:
        ts_ms = now_ms()
    moment = datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
