"""``sequence``: step A, then B (then C...) in the same partition, all within ``within``.

Each event matching the first step opens a partial match (at most ``max_pending`` per partition,
the oldest dropped); a partial match advances when an event satisfies its next step, whose filter
may refer to fields of the events already matched (``{"ref": "first.price"}``). A completed match
clears the partition's partial matches, so one burst of events gives one alert, not a cascade.
Shorthand: ``{"first": filter, "then": filter, "within": "30s"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ascep.cep.durations import DURATION_SCHEMA, to_ms
from ascep.cep.limits import Limits
from ascep.cep.patterns.base import Match, Pattern
from ascep.cep.patterns.steps import STEP_SCHEMA, compile_steps


class _Run:
    __slots__ = ("bound", "events", "start")

    def __init__(self, start: int, name: str, event: Mapping[str, Any]) -> None:
        self.start = start
        self.bound: dict[str, Mapping[str, Any]] = {name: event}
        self.events = [event]


class Sequence(Pattern):
    name = "sequence"
    help = (
        "Events matching `steps[0]`, `steps[1]`, ... in this order in one partition, the last within "
        '`within` of the first. A step\'s `where` may use `{"ref": "<step>.<field>"}` as a value.'
    )
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["steps", "within"],
        "properties": {
            "steps": {"type": "array", "minItems": 2, "maxItems": 10, "items": STEP_SCHEMA},
            "within": DURATION_SCHEMA,
        },
    }
    example: ClassVar[dict[str, Any]] = {
        "steps": [
            {"name": "first", "where": {"field": "price", "op": ">", "value": 70000}},
            {
                "name": "then",
                "where": {"field": "price", "op": "<", "value": {"ref": "first.price", "factor": 0.99}},
            },
        ],
        "within": "30s",
    }

    @classmethod
    def normalise(cls, conditions: Mapping[str, Any], *, original: bool = False) -> dict[str, Any]:
        out = super().normalise(conditions, original=original)
        if "steps" not in out and "first" in out and "then" in out:
            first, then = out.pop("first"), out.pop("then")
            out["steps"] = [{"name": "first", "where": first}, {"name": "then", "where": then}]
        if "timeframe" in out and "within" not in out:
            out["within"] = out.pop("timeframe")
        return out

    def __init__(self, conditions: Mapping[str, Any], limits: Limits, path: str = "$.conditions") -> None:
        super().__init__(conditions, limits, path)
        self.steps = compile_steps(conditions["steps"], f"{path}.steps")
        self.within_ms = to_ms(conditions["within"], f"{path}.within")

    def new_state(self) -> list[_Run]:
        return []

    def on_event(self, state: list[_Run], event: Mapping[str, Any], ts: int) -> Match | None:
        if state:
            cutoff = ts - self.within_ms
            state[:] = [run for run in state if run.start >= cutoff]
        for run in state:
            step = self.steps[len(run.events)]
            if ts >= run.start and step.matches(event, run.bound):
                run.bound[step.name] = event
                run.events.append(event)
                if len(run.events) == len(self.steps):
                    state.clear()
                    return Match(
                        run.events,
                        f"sequence {' -> '.join(s.name for s in self.steps)} within "
                        f"{(ts - run.start) / 1000:g}s",
                        {"elapsed_ms": ts - run.start},
                    )
        first = self.steps[0]
        if first.matches(event, None):
            state.append(_Run(ts, first.name, event))
            if len(state) > self.limits.max_pending:
                del state[0]
        return None
