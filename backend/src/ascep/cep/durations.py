"""Durations in rules: a number of seconds (``30``, ``0.5``) or a string (``"500ms"``, ``"5m"``).

Everything is converted to integer milliseconds once, when a rule is compiled, because event
times (``ts``) are epoch milliseconds.
"""

from __future__ import annotations

import re
from typing import Any

from ascep.cep.errors import RuleError

_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
#: Longest duration a rule may name (ten years): beyond it a number is not a window but a typo,
#: and ``1e308`` seconds would not even be a whole number of milliseconds.
MAX_DURATION_S = 10 * 365 * 86_400
_MAX_MS = MAX_DURATION_S * 1000

#: JSON Schema of a duration (shared by every pattern's schema).
DURATION_SCHEMA: dict[str, Any] = {
    "description": 'Seconds (number) or a string with a unit: "500ms", "30s", "5m", "1h", "1d".',
    "oneOf": [
        {"type": "number", "minimum": 0, "maximum": MAX_DURATION_S},
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)\s*$"},
    ],
}


def to_ms(value: Any, path: str) -> int:
    """``value`` as milliseconds; :class:`RuleError` at ``path`` when it is not a duration."""
    if isinstance(value, bool):
        raise RuleError(path, "must be a duration (seconds or a string like '30s')")
    if isinstance(value, int | float):
        if value < 0:
            raise RuleError(path, "must not be negative")
        return _bounded(value * 1000, path)
    if isinstance(value, str):
        match = _PATTERN.match(value)
        if match:
            return _bounded(float(match.group(1)) * _UNITS_MS[match.group(2)], path)
    raise RuleError(path, f"{value!r} is not a duration (seconds or a string like '30s', '5m', '500ms')")


def _bounded(ms: float, path: str) -> int:
    if not ms <= _MAX_MS:  # also NaN and infinity
        raise RuleError(path, f"must be at most {MAX_DURATION_S} seconds (ten years)")
    return round(ms)
