"""Query-string parameters every service reads the same way, with the same 400 envelope.

Every view reads its query string here (none reads ``request.args`` itself), so a parameter
means the same thing on every endpoint: absent and empty are the same, numbers are plain ASCII
digits (no ``+5``, ``1_000``, `` 5`` or ``²``, which Python's ``int()`` would take or choke on), and
``details`` always names the ``parameter`` and echoes the ``value`` received, so a client can
show the error next to the right input.

Each reader takes the request's arguments by default; ``args`` lets domain code and unit tests
parse a plain mapping the same way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import TypeVar

from flask import request

from ascep.common.errors import BadRequest

D = TypeVar("D", int, None)

_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def bad_parameter(parameter: str, raw: object, message: str) -> BadRequest:
    return BadRequest(message, {"parameter": parameter, "value": raw})


def _raw(name: str, args: Mapping[str, str] | None) -> str | None:
    """The parameter's text, ``None`` when absent or empty."""
    raw = (request.args if args is None else args).get(name)
    return raw if raw else None


def text_arg(name: str, args: Mapping[str, str] | None = None) -> str | None:
    """A free-text parameter (a service name, an endpoint); ``None`` when absent or empty."""
    return _raw(name, args)


def int_arg(
    name: str, default: D, minimum: int, maximum: int, args: Mapping[str, str] | None = None
) -> int | D:
    """An integer parameter within ``[minimum, maximum]``; ``default`` when absent or empty."""
    raw = _raw(name, args)
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw):
        raise bad_parameter(name, raw, f"{name} must be an integer")
    value = int(raw)
    if not minimum <= value <= maximum:
        raise bad_parameter(name, raw, f"{name} must be between {minimum} and {maximum}")
    return value


def float_arg(name: str, unit: str = "", args: Mapping[str, str] | None = None) -> float | None:
    """A finite number (``unit`` is named in the error, e.g. ``percent``); ``None`` when absent."""
    raw = _raw(name, args)
    if raw is None:
        return None
    value = float(raw) if _NUMBER.fullmatch(raw) else math.nan
    if not math.isfinite(value):
        raise bad_parameter(name, raw, f"{name} must be a number" + (f" ({unit})" if unit else ""))
    return value


def choice_arg(name: str, choices: tuple[str, ...], args: Mapping[str, str] | None = None) -> str | None:
    """One of ``choices``; ``None`` when absent or empty."""
    raw = _raw(name, args)
    if raw is not None and raw not in choices:
        raise bad_parameter(name, raw, f"{name} must be one of {', '.join(choices)}")
    return raw


def time_arg(name: str = "since", args: Mapping[str, str] | None = None) -> int | None:
    """A time as epoch milliseconds or ISO 8601 with a zone (``2026-01-02T03:04:05Z``); ``None`` if absent."""
    raw = _raw(name, args)
    if raw is None:
        return None
    if _INTEGER.fullmatch(raw) and not raw.startswith("-"):
        return int(raw)
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise bad_parameter(name, raw, f"{name} must be epoch milliseconds or an ISO 8601 time") from exc
    if moment.tzinfo is None:
        raise bad_parameter(name, raw, f"{name} needs a time zone (e.g. a trailing Z)")
    return int(moment.timestamp() * 1000)
