"""``threshold``: a numeric field crosses a value (or, in ``level`` mode, is beyond it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ascep.cep.fields import number_getter
from ascep.cep.limits import Limits
from ascep.cep.patterns.base import COMPARISONS, Match, Pattern


class Threshold(Pattern):
    name = "threshold"
    help = (
        "A numeric field crosses a value. `cross` (default) fires when the comparison becomes true "
        "after having been false in the same partition; `level` fires on every event where it holds."
    )
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["field", "op", "value"],
        "properties": {
            "field": {"type": "string", "minLength": 1},
            "op": {"enum": list(COMPARISONS)},
            "value": {"type": "number"},
            "mode": {"enum": ["cross", "level"], "default": "cross"},
        },
    }
    example: ClassVar[dict[str, Any]] = {"field": "price", "op": ">", "value": 70000, "mode": "cross"}
    aliases: ClassVar[dict[str, str]] = {"operator": "op", "threshold": "value"}

    def __init__(self, conditions: Mapping[str, Any], limits: Limits, path: str = "$.conditions") -> None:
        super().__init__(conditions, limits, path)
        self.field = conditions["field"]
        self.read = number_getter(self.field)
        self.op = conditions["op"]
        self.test = COMPARISONS[self.op]
        self.value = float(conditions["value"])
        self.level = conditions.get("mode", "cross") == "level"

    def new_state(self) -> list[bool | None]:
        return [None]  # was the comparison true on the previous event?

    def on_event(self, state: list[bool | None], event: Mapping[str, Any], ts: int) -> Match | None:
        value = self.read(event)
        if value is None:
            return None
        holds = self.test(value, self.value)
        before, state[0] = state[0], holds
        if holds and (self.level or before is False):
            verb = "is" if self.level else "crossed"
            return Match(
                [event],
                lambda: f"{self.field} {verb} {self.op} {self.value:g} ({value:g})",
                {"field": self.field, "value": value, "threshold": self.value},
            )
        return None
