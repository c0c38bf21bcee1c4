"""``volume_surge``: a value (default `volume`) surges — relative to its average, or past a level.

``multiplier``: the value is at least that many times its moving average over the *previous*
events (by count, ``periods``, or time, ``window``), so the surge itself does not dilute the
baseline it is compared with. ``min_value`` (the original ASCEP ``volume_threshold``): the value
reaches an absolute level — the first event at or above it fires, then again only after an event
below it, so a volume that stays high is one alert, not one per tick. Both given: an event must
be a relative surge *and* at least ``min_value``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ascep.cep.durations import DURATION_SCHEMA, to_ms
from ascep.cep.errors import RuleError
from ascep.cep.limits import Limits
from ascep.cep.patterns.base import FieldPattern, Match, field_option
from ascep.cep.patterns.windows import Window

#: Original ASCEP: ``volume_threshold`` defaulted to 1 000 000.
ORIGINAL_DEFAULT_VOLUME = 1_000_000


class _State:
    __slots__ = ("above", "window")

    def __init__(self, window: Window) -> None:
        self.window = window
        self.above = False  # the previous value was at or above min_value


class VolumeSurge(FieldPattern):
    name = "volume_surge"
    default_field = "volume"
    help = (
        "A field (default `volume`) ≥ `multiplier` x its moving average over the previous `periods` "
        "events (default 20) or the previous `window` of time, once `min_events` are in the baseline; "
        "and/or reaching the absolute level `min_value` (fires once per rise above it)."
    )
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "field": field_option(default_field),
            "multiplier": {"type": "number", "exclusiveMinimum": 0},
            "min_value": {"type": "number", "minimum": 0},
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
        "volume_threshold": "min_value",
    }

    @classmethod
    def normalise(cls, conditions: Mapping[str, Any], *, original: bool = False) -> dict[str, Any]:
        out = super().normalise(conditions, original=original)
        if original and "multiplier" not in out:
            out.setdefault("min_value", ORIGINAL_DEFAULT_VOLUME)
        return out

    def __init__(self, conditions: Mapping[str, Any], limits: Limits, path: str = "$.conditions") -> None:
        super().__init__(conditions, limits, path)
        if "multiplier" not in conditions and "min_value" not in conditions:
            raise RuleError(
                f"{path}.multiplier",
                "is required: give 'multiplier' (x the moving average), 'min_value' (an absolute "
                "level), or both",
            )
        if "periods" in conditions and "window" in conditions:
            raise RuleError(f"{path}.window", "give 'periods' or 'window', not both")
        multiplier = conditions.get("multiplier")
        self.multiplier = float(multiplier) if multiplier is not None else None
        minimum = conditions.get("min_value")
        self.min_value = float(minimum) if minimum is not None else None
        self.window_ms = to_ms(conditions["window"], f"{path}.window") if "window" in conditions else None
        periods = conditions.get("periods", 20 if self.window_ms is None else limits.max_window_events)
        self.capacity = min(int(periods), limits.max_window_events)
        self.min_events = int(conditions.get("min_events", 3))

    def new_state(self) -> _State:
        return _State(Window(self.capacity if self.multiplier is not None else 1, self.window_ms))

    def on_event(self, state: _State, event: Mapping[str, Any], ts: int) -> Match | None:
        value = self.read(event)
        if value is None:
            return None
        if self.multiplier is None:
            return self._level(state, event, value)
        window = state.window
        window.expire(ts)
        average = window.mean()
        match = None
        floor_ok = self.min_value is None or value >= self.min_value
        if floor_ok and average is not None and average > 0 and len(window) >= self.min_events:
            ratio = value / average
            if ratio >= self.multiplier:
                match = Match(
                    [event],
                    lambda: f"{self.field} {value:g} is {ratio:.2f}x its average {average:g}",
                    {"value": value, "average": average, "ratio": round(ratio, 6), "baseline": len(window)},
                )
        window.add(ts, value, event)
        return match

    def _level(self, state: _State, event: Mapping[str, Any], value: float) -> Match | None:
        assert self.min_value is not None  # __init__ requires one of the two
        minimum = self.min_value
        above, state.above = state.above, value >= minimum
        if not state.above or above:
            return None
        return Match(
            [event],
            lambda: f"{self.field} {value:g} reached {minimum:g}",
            {"value": value, "min_value": minimum},
        )
