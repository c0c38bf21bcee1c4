"""``volatility``: the standard deviation of %-returns over a time window reaches a threshold."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ascep.cep.durations import DURATION_SCHEMA, to_ms
from ascep.cep.limits import Limits
from ascep.cep.patterns.base import FieldPattern, Match, field_option
from ascep.cep.patterns.windows import Window


class _State:
    __slots__ = ("last", "returns")

    def __init__(self, window: Window) -> None:
        self.last: float | None = None
        self.returns = window


class Volatility(FieldPattern):
    name = "volatility"
    default_field = "price"
    help = (
        "Sample standard deviation of the event-to-event % returns of a field (default `price`) "
        "within `window` ≥ `threshold` (in %), once at least `min_events` returns are in the window."
    )
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["threshold", "window"],
        "properties": {
            "field": field_option(default_field),
            "threshold": {"type": "number", "exclusiveMinimum": 0},
            "window": DURATION_SCHEMA,
            "min_events": {"type": "integer", "minimum": 2, "default": 5},
        },
    }
    example: ClassVar[dict[str, Any]] = {"threshold": 0.5, "window": "5m", "min_events": 10}
    aliases: ClassVar[dict[str, str]] = {
        "timeframe": "window",
        "time_window": "window",
        "stddev": "threshold",
    }

    def __init__(self, conditions: Mapping[str, Any], limits: Limits, path: str = "$.conditions") -> None:
        super().__init__(conditions, limits, path)
        self.threshold = float(conditions["threshold"])
        self.window_ms = to_ms(conditions["window"], f"{path}.window")
        self.min_events = int(conditions.get("min_events", 5))

    def new_state(self) -> _State:
        return _State(Window(self.limits.max_window_events, self.window_ms, track_variance=True))

    def on_event(self, state: _State, event: Mapping[str, Any], ts: int) -> Match | None:
        value = self.read(event)
        if value is None:
            return None
        last, state.last = state.last, value
        window = state.returns
        window.expire(ts)
        if last is None or last == 0:
            return None
        window.add(ts, (value / last - 1) * 100, event)
        if len(window) < self.min_events:
            return None
        stddev = window.stddev()
        if stddev is None or stddev < self.threshold:
            return None
        first_event = window.items[0][2]
        count = len(window)
        seconds = self.window_ms / 1000
        return Match(
            [first_event, event] if first_event is not event else [event],
            lambda: f"{self.field} volatility {stddev:.3f}% over {count} returns in {seconds:g}s",
            {"stddev_percent": round(stddev, 6), "returns": count},
        )
