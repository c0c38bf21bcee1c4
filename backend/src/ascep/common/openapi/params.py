"""Query and path parameters declared once: the object that reads a value also documents it.

``LIMIT = int_param("limit", 50, 1, 1000, "Most signals to return.")`` is listed in the view's
``@doc(query=[LIMIT])`` and read with ``LIMIT.read()``, which calls the matching reader of
:mod:`ascep.common.query` with the same bounds the schema states, so the documented range and
default are the enforced ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ascep.common.query import choice_arg, float_arg, int_arg, text_arg, time_arg


@dataclass(frozen=True)
class Param:
    """A named parameter: its JSON Schema, what it means, and how a view reads it."""

    name: str
    description: str
    schema: dict[str, Any]
    reader: Callable[[], Any] = lambda: None
    location: str = "query"
    required: bool = False
    example: Any = None

    def read(self) -> Any:
        """The request's value, parsed and bounded (400 envelope naming the parameter if bad)."""
        return self.reader()

    def spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "in": self.location, "description": self.description}
        out["required"] = self.required or self.location == "path"
        out["schema"] = self.schema
        if self.example is not None:
            out["example"] = self.example
        return out


def int_param(name: str, default: int | None, minimum: int, maximum: int, description: str) -> Param:
    schema: dict[str, Any] = {"type": "integer", "minimum": minimum, "maximum": maximum}
    if default is not None:
        schema["default"] = default
    return Param(name, description, schema, lambda: int_arg(name, default, minimum, maximum))


def float_param(name: str, description: str, unit: str = "") -> Param:
    return Param(name, description, {"type": "number"}, lambda: float_arg(name, unit))


def choice_param(name: str, choices: Sequence[str], description: str) -> Param:
    options = tuple(choices)
    return Param(
        name, description, {"type": "string", "enum": list(options)}, lambda: choice_arg(name, options)
    )


def text_param(name: str, description: str, max_length: int = 200) -> Param:
    return Param(name, description, {"type": "string", "maxLength": max_length}, lambda: text_arg(name))


def time_param(name: str, description: str) -> Param:
    """Epoch milliseconds or an ISO 8601 time with a zone (``2026-01-02T03:04:05Z``)."""
    schema = {
        "anyOf": [
            {"type": "integer", "minimum": 0, "description": "epoch milliseconds"},
            {"type": "string", "format": "date-time", "description": "ISO 8601 with a zone"},
        ]
    }
    return Param(name, description, schema, lambda: time_arg(name))


def path_param(
    name: str, description: str, schema: dict[str, Any] | None = None, example: Any = None
) -> Param:
    """A path variable (read by Flask; declared here for its schema and description)."""
    return Param(name, description, schema or {"type": "string"}, location="path", example=example)
