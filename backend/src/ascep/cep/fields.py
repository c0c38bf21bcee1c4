"""Reading fields and event times out of events (plain dicts decoded from the bus).

Field names may be dotted (``"prices.BTCUSDT"``) to reach into nested objects. Getters are built
once per rule so the hot path does one dict lookup for a flat field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

MISSING: Any = object()

Getter = Callable[[Mapping[str, Any]], Any]


def getter(field: str) -> Getter:
    """A function returning ``event[field]`` (dotted: nested) or :data:`MISSING`."""
    parts = field.split(".")
    if len(parts) == 1:
        return lambda event: event.get(field, MISSING)

    def nested(event: Mapping[str, Any]) -> Any:
        value: Any = event
        for part in parts:
            if isinstance(value, Mapping):
                value = value.get(part, MISSING)
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                return MISSING
            if value is MISSING:
                return MISSING
        return value

    return nested


def number(value: Any) -> float | None:
    """``value`` as a float when it is a real number (not a bool), else ``None``."""
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        return float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):  # subclasses, rare
        return float(value)
    return None


def number_getter(field: str) -> Callable[[Mapping[str, Any]], float | None]:
    """``number(event[field])`` as one call: what every numeric pattern does on every event."""
    if "." in field:
        get = getter(field)
        return lambda event: number(get(event))

    def read(event: Mapping[str, Any]) -> float | None:
        value = event.get(field)
        return value if type(value) is float else number(value)

    return read


class BadEventTime(ValueError):
    """The event carries a ``ts``/``timestamp`` that is not a time."""


def event_time(event: Mapping[str, Any]) -> int | None:
    """Event time in epoch ms from ``ts`` (preferred) or ISO ``timestamp``; ``None`` if neither.

    Raises :class:`BadEventTime` when a time field is present but unusable: such an event is
    malformed, whereas an event without any time simply takes the engine's clock.
    """
    ts = event.get("ts")
    if ts is not None:
        if isinstance(ts, int | float) and not isinstance(ts, bool) and ts == ts:
            return int(ts)
        raise BadEventTime(f"ts must be epoch milliseconds, got {ts!r}")
    stamp = event.get("timestamp")
    if stamp is None:
        return None
    if isinstance(stamp, str):
        try:
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError as exc:
            raise BadEventTime(f"timestamp is not ISO 8601: {stamp!r}") from exc
        if moment.tzinfo is not None:
            return int(moment.timestamp() * 1000)
    raise BadEventTime(f"timestamp must be ISO 8601 with a time zone, got {stamp!r}")
