"""``aggregate``: count/sum/avg/min/max over a window, tested with a ``having`` condition.

Windows are time (``window``) or count (``count``) based, ``sliding`` (evaluated on every event)
or ``tumbling`` (evaluated once when a window closes: time windows are aligned on multiples of
their size in event time, count windows close every ``count`` events).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ascep.cep.durations import DURATION_SCHEMA, to_ms
from ascep.cep.errors import RuleError
from ascep.cep.fields import number_getter
from ascep.cep.limits import Limits
from ascep.cep.patterns.base import COMPARISONS, Match, Pattern
from ascep.cep.patterns.windows import Window

MAX_EVENTS_IN_MATCH = 20


class _State:
    __slots__ = ("bucket", "window")

    def __init__(self, window: Window) -> None:
        self.window = window
        self.bucket: int | None = None  # tumbling time windows: index of the open window


class Aggregate(Pattern):
    name = "aggregate"
    help = (
        "`function` (count, sum, avg, min, max) of `field` over a `window` of time or the last "
        "`count` events, `sliding` (every event) or `tumbling` (when the window closes); fires when "
        '`having` holds, e.g. {"op": ">=", "value": 10}.'
    )
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["function", "having"],
        "properties": {
            "function": {"enum": ["count", "sum", "avg", "min", "max"]},
            "field": {"type": "string", "minLength": 1},
            "window": DURATION_SCHEMA,
            "count": {"type": "integer", "minimum": 1},
            "mode": {"enum": ["sliding", "tumbling"], "default": "sliding"},
            "having": {
                "type": "object",
                "additionalProperties": False,
                "required": ["op", "value"],
                "properties": {"op": {"enum": list(COMPARISONS)}, "value": {"type": "number"}},
            },
        },
    }
    example: ClassVar[dict[str, Any]] = {
        "function": "avg",
        "field": "price",
        "window": "1m",
        "mode": "tumbling",
        "having": {"op": ">", "value": 65000},
    }
    aliases: ClassVar[dict[str, str]] = {"timeframe": "window", "aggregation": "function", "type": "mode"}

    def __init__(self, conditions: Mapping[str, Any], limits: Limits, path: str = "$.conditions") -> None:
        super().__init__(conditions, limits, path)
        self.function = conditions["function"]
        if self.function != "count" and "field" not in conditions:
            raise RuleError(f"{path}.field", f"is required for '{self.function}'")
        self.field = conditions.get("field")
        self.read = number_getter(self.field) if self.field else None
        if ("window" in conditions) == ("count" in conditions):
            raise RuleError(f"{path}.window", "give exactly one of 'window' (time) or 'count' (events)")
        self.size_ms = to_ms(conditions["window"], f"{path}.window") if "window" in conditions else None
        if self.size_ms == 0:
            raise RuleError(f"{path}.window", "must be longer than 0")
        self.count = int(conditions["count"]) if "count" in conditions else None
        if self.count is not None and self.count > limits.max_window_events:
            raise RuleError(f"{path}.count", f"must be at most {limits.max_window_events}")
        self.tumbling = conditions.get("mode", "sliding") == "tumbling"
        having = conditions["having"]
        self.having_op = having["op"]
        self.having_test = COMPARISONS[self.having_op]
        self.having_value = float(having["value"])

    def new_state(self) -> _State:
        capacity = self.count or self.limits.max_window_events
        sliding_time = None if self.tumbling else self.size_ms
        return _State(Window(capacity, sliding_time, track_extrema=self.function in ("min", "max")))

    def on_event(self, state: _State, event: Mapping[str, Any], ts: int) -> Match | None:
        if self.read is None:
            value = 1.0
        else:
            value_ = self.read(event)
            if value_ is None:
                return None
            value = value_
        window = state.window
        if not self.tumbling:
            window.add(ts, value, event)
            window.expire(ts)
            return self._evaluate(window, None)
        if self.size_ms is not None:
            bucket = ts // self.size_ms
            match = None
            if state.bucket is None:
                state.bucket = bucket
            elif bucket < state.bucket:
                return None  # belongs to a window already closed
            elif bucket > state.bucket:
                match = self._evaluate(window, (state.bucket + 1) * self.size_ms - 1)
                window.clear()
                state.bucket = bucket
            window.add(ts, value, event)
            return match
        window.add(ts, value, event)
        if len(window) < (self.count or 0):
            return None
        match = self._evaluate(window, None)
        window.clear()
        return match

    def result(self, window: Window) -> float | None:
        if not len(window):
            return None
        if self.function == "count":
            return float(len(window))
        if self.function == "sum":
            return window.sum
        if self.function == "avg":
            return window.mean()
        item = window.min_item() if self.function == "min" else window.max_item()
        return item[1] if item else None

    def _evaluate(self, window: Window, closed_at: int | None) -> Match | None:
        result = self.result(window)
        if result is None or not self.having_test(result, self.having_value):
            return None
        what = self.function if self.field is None else f"{self.function}({self.field})"
        span = f"{self.size_ms / 1000:g}s" if self.size_ms is not None else f"{self.count} events"
        events = [item[2] for item in list(window.items)[-MAX_EVENTS_IN_MATCH:]]
        return Match(
            events,
            f"{what} = {result:g} {self.having_op} {self.having_value:g} over {span}",
            {"function": self.function, "result": result, "events_in_window": len(window)},
            ts=closed_at,
        )
