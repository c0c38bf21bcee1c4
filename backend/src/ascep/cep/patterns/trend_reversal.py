"""``trend_reversal``: the short moving average crosses the long one (golden/death cross).

``min_separation_percent`` (the original ASCEP rules' ``threshold``) asks for a clear cross: the
averages must end up at least that far apart (in % of the long one) on the other side, so two
averages running side by side do not report a reversal on every wobble.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ascep.cep.errors import RuleError
from ascep.cep.limits import Limits
from ascep.cep.patterns.base import FieldPattern, Match, field_option
from ascep.cep.patterns.windows import Window


class _State:
    __slots__ = ("long", "short", "side")

    def __init__(self, short: int, long: int) -> None:
        self.short = Window(short)
        self.long = Window(long)
        self.side = 0  # +1 short above long, -1 below, 0 unknown


class TrendReversal(FieldPattern):
    name = "trend_reversal"
    default_field = "price"
    help = (
        "The simple moving average of the last `short` events crosses the one of the last `long` "
        "events: `bullish` = crosses above, `bearish` = crosses below. Needs `long` events first."
    )
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["short", "long"],
        "properties": {
            "field": field_option(default_field),
            "short": {"type": "integer", "minimum": 1},
            "long": {"type": "integer", "minimum": 2},
            "direction": {"enum": ["bullish", "bearish", "both"], "default": "both"},
            "min_separation_percent": {"type": "number", "minimum": 0, "default": 0},
        },
    }
    example: ClassVar[dict[str, Any]] = {"short": 5, "long": 20, "direction": "both"}
    aliases: ClassVar[dict[str, str]] = {
        "short_window": "short",
        "long_window": "long",
        "fast": "short",
        "slow": "long",
        "ma_short": "short",
        "ma_long": "long",
        "threshold": "min_separation_percent",
    }
    #: The original ASCEP dashboard's own example (its engine had no defaults: it never fired).
    original_defaults: ClassVar[dict[str, Any]] = {"short": 10, "long": 50}

    def __init__(self, conditions: Mapping[str, Any], limits: Limits, path: str = "$.conditions") -> None:
        super().__init__(conditions, limits, path)
        self.short = int(conditions["short"])
        self.long = int(conditions["long"])
        if self.short >= self.long:
            raise RuleError(f"{path}.short", f"must be smaller than long ({self.long})")
        if self.long > limits.max_window_events:
            raise RuleError(f"{path}.long", f"must be at most {limits.max_window_events}")
        direction = conditions.get("direction", "both")
        self.bullish = direction in ("bullish", "both")
        self.bearish = direction in ("bearish", "both")
        self.separation = float(conditions.get("min_separation_percent", 0)) / 100.0

    def new_state(self) -> _State:
        return _State(self.short, self.long)

    def on_event(self, state: _State, event: Mapping[str, Any], ts: int) -> Match | None:
        value = self.read(event)
        if value is None:
            return None
        state.short.add(ts, value, event)
        state.long.add(ts, value, event)
        if len(state.long) < self.long:
            return None
        short_ma, long_ma = state.short.sum / self.short, state.long.sum / self.long
        gap = abs(long_ma) * self.separation
        side = 1 if short_ma > long_ma + gap else -1 if short_ma < long_ma - gap else 0
        if side == 0:
            return None
        before, state.side = state.side, side
        if before == 0 or before == side:
            return None
        if (side > 0 and not self.bullish) or (side < 0 and not self.bearish):
            return None
        kind = "bullish" if side > 0 else "bearish"
        return Match(
            [event],
            lambda: (
                f"{kind} reversal: {self.short}-event average {short_ma:g} crossed "
                f"{'above' if side > 0 else 'below'} the {self.long}-event average {long_ma:g}"
            ),
            {"direction": kind, "short_ma": short_ma, "long_ma": long_ma},
        )
