"""Steps of the multi-event patterns (``sequence``, ``absence``): named filters with references.

A step is ``{"name": "a", "where": <filter>}``; a later step's filter may compare with an earlier
step's event through ``{"ref": "a.price"}``. Shared so both patterns parse steps identically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ascep.cep.errors import RuleError
from ascep.cep.filters import Predicate, compile_filter

STEP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["where"],
    "properties": {
        "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        "where": {"$ref": "#/$defs/filter"},
    },
}


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    matches: Predicate


def compile_steps(raw: Sequence[Mapping[str, Any]], path: str) -> list[Step]:
    """Compile steps in order; each may refer to the ones before it."""
    steps: list[Step] = []
    for i, spec in enumerate(raw):
        name = spec.get("name") or f"step{i}"
        if any(s.name == name for s in steps):
            raise RuleError(f"{path}[{i}].name", f"duplicate step name '{name}'")
        where = compile_filter(spec["where"], f"{path}[{i}].where", [s.name for s in steps])
        steps.append(Step(name, where))
    return steps
