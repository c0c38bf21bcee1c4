"""``absence``: an event matching ``first`` NOT followed by one matching ``then`` within ``within``.

Each ``first`` event arms a timer at ``ts + within`` (at most ``max_pending`` per partition); a
``then`` event in the same partition (its filter may refer to ``first``) disarms every timer it
satisfies. A timer still armed when event time passes its deadline fires — driven by later events
and, in the live service, by the wall clock, so silence itself is detected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ascep.cep.durations import DURATION_SCHEMA, to_ms
from ascep.cep.filters import compile_filter
from ascep.cep.limits import Limits
from ascep.cep.patterns.base import Match, Pattern

Pending = tuple[int, Mapping[str, Any]]  # (deadline, first event)


class Absence(Pattern):
    name = "absence"
    help = (
        "An event matching `first` that is not followed, in the same partition, by an event matching "
        '`then` within `within` (the `then` filter may use `{"ref": "first.<field>"}`).'
    )
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["first", "then", "within"],
        "properties": {
            "first": {"$ref": "#/$defs/filter"},
            "then": {"$ref": "#/$defs/filter"},
            "within": DURATION_SCHEMA,
        },
    }
    example: ClassVar[dict[str, Any]] = {
        "first": {"field": "spread_percentage", "op": ">=", "value": 1.0},
        "then": {"field": "spread_percentage", "op": "<", "value": 0.2},
        "within": "2m",
    }
    aliases: ClassVar[dict[str, str]] = {"timeframe": "within", "timeout": "within"}
    uses_timers = True

    def __init__(self, conditions: Mapping[str, Any], limits: Limits, path: str = "$.conditions") -> None:
        super().__init__(conditions, limits, path)
        self.first = compile_filter(conditions["first"], f"{path}.first")
        self.then = compile_filter(conditions["then"], f"{path}.then", ["first"])
        self.within_ms = to_ms(conditions["within"], f"{path}.within")

    def new_state(self) -> list[Pending]:
        return []

    def on_event(self, state: list[Pending], event: Mapping[str, Any], ts: int) -> Match | None:
        if state:
            state[:] = [
                (deadline, a)
                for deadline, a in state
                if not (ts <= deadline and self.then(event, {"first": a}))
            ]
        if self.first(event, None):
            state.append((ts + self.within_ms, event))
            if len(state) > self.limits.max_pending:
                del state[0]
        return None

    def on_time(self, state: list[Pending], watermark: int) -> list[Match]:
        if not state or all(d >= watermark for d, _ in state):
            return []
        due = [(d, a) for d, a in state if d < watermark]
        state[:] = [(d, a) for d, a in state if d >= watermark]
        return [
            Match(
                [a],
                f"no matching event within {self.within_ms / 1000:g}s",
                {"deadline_ts": deadline},
                ts=deadline,
            )
            for deadline, a in due
        ]
