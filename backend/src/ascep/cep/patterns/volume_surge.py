"""``volume_surge``: a value (default `volume`) is at least ``multiplier`` x its moving average.

The average is over the *previous* events (by count, ``periods``, or time, ``window``), so the
surge itself does not dilute the baseline it is compared with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ascep.cep.durations import DURATION_SCHEMA, to_ms
from ascep.cep.errors import RuleError
from ascep.cep.limits import Limits
from ascep.cep.patterns.base import FieldPattern, Match, field_option
from ascep.cep.patterns.windows import Window


class VolumeSurge(FieldPattern):
    name = "volume_surge"
    default_field = "volume"
    help = (
        "A field (default `volume`) ≥ `multiplier` x its moving average over the previous `periods` "
        "events (default 20) or the previous `window` of time, once `min_events` are in the baseline."
    )
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["multiplier"],
        "properties": {
            "field": field_option(default_field),
            "multiplier": {"type": "number", "exclusiveMinimum": 0},
            "periods": {"type": "integer", "minimum": 1},
            "window": DURATION_SCHEMA,
            "min_events": {"type": "integer", "minimum": 1, "default": 3},
        },
    }
    example: ClassVar[dict[str, Any]] = {"multiplier": 3, "periods": 20, "min_events": 5}
    aliases: ClassVar[dict[str, str]] = {
        "threshold": "multiplier",
        "factor": "multiplier",
        "timeframe": "window",
    }

    def __init__(self, conditions: Mapping[str, Any], limits: Limits, path: str = "$.conditions") -> None:
        super().__init__(conditions, limits, path)
        if "periods" in conditions and "window" in conditions:
            raise RuleError(f"{path}.window", "give 'periods' or 'window', not both")
        self.multiplier = float(conditions["multiplier"])
        self.window_ms = to_ms(conditions["window"], f"{path}.window") if "window" in conditions else None
        periods = conditions.get("periods", 20 if self.window_ms is None else limits.max_window_events)
        self.capacity = min(int(periods), limits.max_window_events)
        self.min_events = int(conditions.get("min_events", 3))

    def new_state(self) -> Window:
        return Window(self.capacity, self.window_ms)

    def on_event(self, state: Window, event: Mapping[str, Any], ts: int) -> Match | None:
        value = self.read(event)
        if value is None:
            return None
        state.expire(ts)
        average = state.mean()
        match = None
        if average is not None and average > 0 and len(state) >= self.min_events:
            ratio = value / average
            if ratio >= self.multiplier:
                match = Match(
                    [event],
                    lambda: f"{self.field} {value:g} is {ratio:.2f}x its average {average:g}",
                    {"value": value, "average": average, "ratio": round(ratio, 6), "baseline": len(state)},
                )
        state.add(ts, value, event)
        return match
