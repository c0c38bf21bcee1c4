"""JSON Schemas of the bus events, derived from their definitions in :mod:`ascep.common.events`.

Why derived and not written out: the dataclass is the one definition every producer and consumer
uses, so the schema documented in OpenAPI responses (``GET /prices/{symbol}``, ``GET /alerts``)
and in the AsyncAPI document of the Socket.IO events is read from its fields and type hints. What
``to_dict()`` does beyond the fields (an ISO ``timestamp`` next to ``ts``, fields left out while
they are unset) is declared here per class, and ``tests/unit/common/test_event_schemas.py``
validates every event's real ``to_dict()`` against its schema, so the two cannot drift apart.

Schemas allow extra properties on purpose: other processes publish on the public channels and
the gateway relays their payloads unchanged.
"""

from __future__ import annotations

import dataclasses
import types
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from ascep.common import events

_ISO_TIME = {"type": "string", "description": "ISO 8601 UTC rendering of `ts`"}


@dataclass(frozen=True)
class Shape:
    """How ``to_dict()`` differs from the fields: ``added`` properties, ``optional`` ones that are
    left out while unset, fields ``renamed``/``hidden`` from the payload, per-field notes."""

    added: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    optional: frozenset[str] = frozenset()
    hidden: frozenset[str] = frozenset()
    notes: dict[str, str] = dataclasses.field(default_factory=dict)


#: The public events (Socket.IO and the public channels) and what their payloads add.
SHAPES: dict[type, Shape] = {
    events.PriceUpdate: Shape(
        added={"timestamp": _ISO_TIME},
        notes={"price": "last trade when the source reports trades, else the bid/ask mid", "ts": "epoch ms"},
    ),
    events.ArbitrageSignal: Shape(
        notes={
            "id": "null only before the store numbers the signal",
            "event": "open, update, close or touch",
        },
    ),
    events.CepAlert: Shape(optional=frozenset({"alert_id", "detected_at"})),
    events.CepSignal: Shape(added={"rule": {"type": "string", "description": "same as rule_name"}}),
    events.ServiceStatus: Shape(added={"timestamp": _ISO_TIME}),
    events.TaskUpdate: Shape(
        optional=frozenset({"queued_ts", "started_ts", "finished_ts", "runtime_ms", "worker"})
    ),
}


def _type_schema(hint: Any) -> dict[str, Any]:
    """A JSON Schema for one field's type hint (the few kinds events use)."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [_type_schema(arg) for arg in get_args(hint) if arg is not type(None)]
        nullable = type(None) in get_args(hint)
        if len(options) == 1 and "type" in options[0] and isinstance(options[0]["type"], str):
            schema = dict(options[0])
            if nullable:
                schema["type"] = [schema["type"], "null"]
            return schema
        return {"anyOf": options + ([{"type": "null"}] if nullable else [])}
    if origin is Literal:
        return {"enum": list(get_args(hint))}
    if origin in (tuple, list):
        args = [a for a in get_args(hint) if a is not Ellipsis]
        return {"type": "array", "items": _type_schema(args[0]) if args else {}}
    if origin is dict or hint is dict:
        return {"type": "object"}
    simple = {str: "string", bool: "boolean", int: "integer", float: "number"}
    if hint in simple:
        return {"type": simple[hint]}
    if hint is Any:
        return {}
    raise TypeError(f"no JSON Schema for the type hint {hint!r}")


@cache
def event_schema(cls: type) -> dict[str, Any]:
    """The JSON Schema of ``cls().to_dict()`` (a class of :data:`SHAPES`)."""
    shape = SHAPES[cls]
    hints = get_type_hints(cls)
    properties: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in shape.hidden:
            continue
        schema = _type_schema(hints[f.name])
        if f.name in shape.notes:
            schema["description"] = shape.notes[f.name]
        properties[f.name] = schema
    properties.update(shape.added)
    required = [name for name in properties if name not in shape.optional]
    doc = (cls.__doc__ or "").strip()
    return {
        "title": cls.__name__,
        "description": doc.split("\n\n")[0].replace("\n    ", " ").replace("\n", " "),
        "type": "object",
        "required": required,
        "properties": properties,
    }
