"""Per-rule partitions: the key an event belongs to and the state kept for it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ascep.cep.fields import MISSING, getter


class Partition:
    """One partition of one rule: pattern state, newest event time, last alert time."""

    __slots__ = ("last_fired", "max_ts", "state", "values")

    def __init__(self, state: Any, values: dict[str, Any]) -> None:
        self.state = state
        self.values = values
        self.max_ts: int | None = None
        self.last_fired: int | None = None


def partition_key(fields: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Any]:
    """``key(event)``: the partition of ``event`` (a value, or a tuple) or ``MISSING``."""
    if not fields:
        return lambda _event: ""
    getters = [getter(f) for f in fields]
    if len(fields) == 1:
        if "." not in fields[0]:
            name = fields[0]
            return lambda event: event.get(name, MISSING)
        return getters[0]

    def key(event: Mapping[str, Any]) -> Any:
        values = tuple(get(event) for get in getters)
        return MISSING if any(v is MISSING for v in values) else values

    return key


def key_is_unhashable(exc: TypeError) -> bool:
    return "unhashable" in str(exc)
