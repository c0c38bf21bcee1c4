"""``price_spike``: the field moved by at least ``percent`` % within ``window``.

Compares the new value with the lowest (upward spike) and highest (downward spike) value still in
the window, so a move is caught whenever it happened inside the window, not only against its
first event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ascep.cep.durations import DURATION_SCHEMA, to_ms
from ascep.cep.limits import Limits
from ascep.cep.patterns.base import FieldPattern, Match, field_option
from ascep.cep.patterns.windows import Window


class PriceSpike(FieldPattern):
    name = "price_spike"
    default_field = "price"
    help = "|% change| of a field (default `price`) ≥ `percent` within a time `window`."
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["percent", "window"],
        "properties": {
            "field": field_option(default_field),
            "percent": {"type": "number", "exclusiveMinimum": 0},
            "window": DURATION_SCHEMA,
            "direction": {"enum": ["up", "down", "both"], "default": "both"},
        },
    }
    example: ClassVar[dict[str, Any]] = {"percent": 2.0, "window": "60s", "direction": "both"}
    aliases: ClassVar[dict[str, str]] = {
        "threshold": "percent",
        "change_percent": "percent",
        "timeframe": "window",
        "time_window": "window",
    }

    def __init__(self, conditions: Mapping[str, Any], limits: Limits, path: str = "$.conditions") -> None:
        super().__init__(conditions, limits, path)
        self.percent = float(conditions["percent"])
        self.window_ms = to_ms(conditions["window"], f"{path}.window")
        direction = conditions.get("direction", "both")
        self.up = direction in ("up", "both")
        self.down = direction in ("down", "both")

    def new_state(self) -> Window:
        return Window(self.limits.max_window_events, self.window_ms, track_extrema=True)

    def on_event(self, state: Window, event: Mapping[str, Any], ts: int) -> Match | None:
        value = self.read(event)
        if value is None:
            return None
        state.expire(ts)
        match = None
        low, high = state.min_item(), state.max_item()
        if self.up and low is not None and low[1] > 0:
            change = (value - low[1]) / low[1] * 100
            if change >= self.percent:
                match = self._match(low, event, value, change)
        if match is None and self.down and high is not None and high[1] > 0:
            change = (value - high[1]) / high[1] * 100
            if -change >= self.percent:
                match = self._match(high, event, value, change)
        state.add(ts, value, event)
        return match

    def _match(self, ref: Any, event: Mapping[str, Any], value: float, change: float) -> Match:
        ref_ts, ref_value, ref_event = ref
        return Match(
            [ref_event, event],
            lambda: (
                f"{self.field} {'rose' if change > 0 else 'fell'} {abs(change):.2f}% "
                f"({ref_value:g} -> {value:g}) within {self.window_ms / 1000:g}s"
            ),
            {"change_percent": round(change, 6), "from": ref_value, "to": value, "from_ts": ref_ts},
        )
