"""Query-string parameters every service reads the same way, with the same 400 envelope.

``details`` always names the ``parameter`` and echoes the ``value`` received, so a client can
show the error next to the right input.
"""

from __future__ import annotations

from datetime import datetime

from flask import request

from ascep.common.errors import BadRequest


def bad_parameter(parameter: str, raw: object, message: str) -> BadRequest:
    return BadRequest(message, {"parameter": parameter, "value": raw})


def int_arg(name: str, default: int, minimum: int, maximum: int) -> int:
    """An integer parameter within ``[minimum, maximum]``; ``default`` when absent or empty."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise bad_parameter(name, raw, f"{name} must be an integer") from exc
    if not minimum <= value <= maximum:
        raise bad_parameter(name, raw, f"{name} must be between {minimum} and {maximum}")
    return value


def time_arg(name: str = "since") -> int | None:
    """A time as epoch milliseconds or ISO 8601 with a zone (``2026-01-02T03:04:05Z``); ``None`` if absent."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw.isdigit():
        return int(raw)
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise bad_parameter(name, raw, f"{name} must be epoch milliseconds or an ISO 8601 time") from exc
    if moment.tzinfo is None:
        raise bad_parameter(name, raw, f"{name} needs a time zone (e.g. a trailing Z)")
    return int(moment.timestamp() * 1000)
