"""``price_spike``: the field moved by at least ``percent`` % within ``window`` (or since the last event).

With ``reference: "window"`` (the default) the new value is compared with the lowest (upward
spike) and highest (downward spike) value still in the window, so a move is caught whenever it
happened inside the window, not only against its first event. With ``reference: "previous"`` it
is compared with the partition's previous value only — the original ASCEP engine's
``price_change_threshold`` ("percent change vs the symbol's previous price").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ascep.cep.durations import DURATION_SCHEMA, to_ms
from ascep.cep.errors import RuleError
from ascep.cep.limits import Limits
from ascep.cep.patterns.base import FieldPattern, Match, field_option
from ascep.cep.patterns.windows import Item, Window

#: Original ASCEP: ``price_change_threshold`` defaulted to 5 %.
ORIGINAL_DEFAULT_PERCENT = 5.0


class _Previous:
    """The partition's previous value (``reference: "previous"``)."""

    __slots__ = ("item",)

    def __init__(self) -> None:
        self.item: Item | None = None


class PriceSpike(FieldPattern):
    name = "price_spike"
    default_field = "price"
    help = (
        "|% change| of a field (default `price`) ≥ `percent` within a time `window`, or since the "
        'previous event of the partition with `reference: "previous"`.'
    )
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["percent"],
        "properties": {
            "field": field_option(default_field),
            "percent": {"type": "number", "exclusiveMinimum": 0},
            "window": DURATION_SCHEMA,
            "direction": {"enum": ["up", "down", "both"], "default": "both"},
            "reference": {"enum": ["window", "previous"], "default": "window"},
        },
        "if": {"properties": {"reference": {"const": "previous"}}, "required": ["reference"]},
        "else": {"required": ["window"]},
    }
    example: ClassVar[dict[str, Any]] = {"percent": 2.0, "window": "60s", "direction": "both"}
    aliases: ClassVar[dict[str, str]] = {
        "threshold": "percent",
        "change_percent": "percent",
        "price_change_threshold": "percent",
        "timeframe": "window",
        "time_window": "window",
    }
    original_defaults: ClassVar[dict[str, Any]] = {"percent": ORIGINAL_DEFAULT_PERCENT}

    @classmethod
    def normalise(cls, conditions: Mapping[str, Any], *, original: bool = False) -> dict[str, Any]:
        """The original ``price_change_threshold`` (and an original rule without a window) compares
        with the previous price: that is what the original engine did."""
        out = super().normalise(conditions, original=original)
        legacy_key = "price_change_threshold" in conditions
        if (legacy_key or original) and "window" not in out:
            out.setdefault("reference", "previous")
        return out

    def __init__(self, conditions: Mapping[str, Any], limits: Limits, path: str = "$.conditions") -> None:
        super().__init__(conditions, limits, path)
        self.percent = float(conditions["percent"])
        self.previous = conditions.get("reference", "window") == "previous"
        window = conditions.get("window")
        if self.previous and window is not None:
            raise RuleError(
                f"{path}.window", 'has no effect with reference "previous"; give one or the other'
            )
        self.window_ms = to_ms(window, f"{path}.window") if window is not None else None
        direction = conditions.get("direction", "both")
        self.up = direction in ("up", "both")
        self.down = direction in ("down", "both")

    def new_state(self) -> Window | _Previous:
        if self.previous:
            return _Previous()
        return Window(self.limits.max_window_events, self.window_ms, track_extrema=True)

    def on_event(self, state: Window | _Previous, event: Mapping[str, Any], ts: int) -> Match | None:
        value = self.read(event)
        if value is None:
            return None
        if isinstance(state, _Previous):
            before, state.item = state.item, (ts, value, event)
            return self._check(before, before, event, value)
        state.expire(ts)
        match = self._check(state.min_item(), state.max_item(), event, value)
        state.add(ts, value, event)
        return match

    def _check(
        self, low: Item | None, high: Item | None, event: Mapping[str, Any], value: float
    ) -> Match | None:
        if self.up and low is not None and low[1] > 0:
            change = (value - low[1]) / low[1] * 100
            if change >= self.percent:
                return self._match(low, event, value, change)
        if self.down and high is not None and high[1] > 0:
            change = (value - high[1]) / high[1] * 100
            if -change >= self.percent:
                return self._match(high, event, value, change)
        return None

    def _match(self, ref: Item, event: Mapping[str, Any], value: float, change: float) -> Match:
        ref_ts, ref_value, ref_event = ref
        since = "since the previous event" if self.window_ms is None else f"within {self.window_ms / 1000:g}s"
        return Match(
            [ref_event, event],
            lambda: (
                f"{self.field} {'rose' if change > 0 else 'fell'} {abs(change):.2f}% "
                f"({ref_value:g} -> {value:g}) {since}"
            ),
            {"change_percent": round(change, 6), "from": ref_value, "to": value, "from_ts": ref_ts},
        )
