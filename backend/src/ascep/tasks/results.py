"""Task results are bounded: ``TASK_RESULT_MAX_BYTES`` of JSON at most, per record.

A result is stored inside its task record in Redis, so its size multiplies by the history size.
Jobs whose output can grow (an export, a backtest's matches) fit themselves under the cap with
these helpers and say what they left out; the worker fails any other result that exceeds it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


class ResultTooLarge(Exception):
    """A job returned more than the cap allows; the task fails with this message."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"result of {size} bytes exceeds TASK_RESULT_MAX_BYTES ({limit} bytes); "
            "narrow the arguments (e.g. since/until)"
        )
        self.size = size
        self.limit = limit


def encoded_size(value: Any) -> int:
    """Bytes ``value`` takes as stored (compact JSON, UTF-8)."""
    return len(json.dumps(value, separators=(",", ":")).encode())


def json_string_size(text: str) -> int:
    """Bytes ``text`` adds inside a JSON string (escapes included, quotes excluded)."""
    return len(json.dumps(text).encode()) - 2


def fit_tail(items: Sequence[Any], budget: int) -> list[Any]:
    """The longest tail of ``items`` whose encoded size fits ``budget`` bytes (newest kept)."""
    kept = 0
    used = 0
    for item in reversed(items):
        cost = encoded_size(item) + 1  # the separating comma
        if used + cost > budget:
            break
        used += cost
        kept += 1
    return list(items[len(items) - kept :]) if kept else []


def check_size(result: Any, limit: int) -> None:
    """Raise :class:`ResultTooLarge` when ``result`` would not fit."""
    size = encoded_size(result)
    if size > limit:
        raise ResultTooLarge(size, limit)
