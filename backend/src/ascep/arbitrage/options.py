"""Typed live options, declared once each — mitmproxy's ``loader.add_option`` shape.

An option is a field of a frozen dataclass whose metadata (:func:`option`) holds its *kind* (the
type with its bounds) and its help. Everything else comes from that one declaration: validation
of an update (:func:`apply_update`), the defaults (the field's), the plain answer of
``GET /config`` (:func:`as_plain_dict`), the README table (:func:`markdown_table`) and the JSON
Schema of the OpenAPI document (:func:`json_schema`). A bad value
raises :class:`ConfigValidationError` naming the option (dotted for a key inside one) and why.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class ConfigValidationError(ValueError):
    """An update is invalid; ``field`` is the dotted name of the offending key.

    ``unknown`` tells a key nobody declared (a typo: 400) from a declared key with a bad value
    (wrong type or out of range: 422)."""

    def __init__(self, field: str, reason: str, *, unknown: bool = False) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.unknown = unknown


class Kind(Protocol):
    """What values an option takes: parses an update against the current value."""

    def parse(self, name: str, value: Any, current: Any) -> Any: ...

    def describe(self) -> str: ...

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of a value (what ``parse`` accepts; cross-key rules are in words)."""
        ...


def _type_name(value: Any) -> str:
    return type(value).__name__


@dataclass(frozen=True)
class Number:
    """A finite number within ``[minimum, maximum]``; with ``integer``, a whole JSON integer."""

    minimum: float
    maximum: float
    integer: bool = False

    def parse(self, name: str, value: Any, current: Any = None) -> float:
        expected = (int,) if self.integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, expected):
            article = "an integer" if self.integer else "a number"
            raise ConfigValidationError(name, f"must be {article}, got {_type_name(value)}")
        if not math.isfinite(value):
            raise ConfigValidationError(name, "must be finite")
        if value < self.minimum or value > self.maximum:
            bounds = f"between {self.minimum} and {self.maximum}"
            raise ConfigValidationError(name, f"must be {bounds}, got {value}")
        return value if self.integer else float(value)

    def describe(self) -> str:
        if self.integer:
            return f"integer {self.minimum}-{self.maximum}"
        return f"number {self.minimum:g}-{self.maximum:g}"

    def schema(self) -> dict[str, Any]:
        return {
            "type": "integer" if self.integer else "number",
            "minimum": self.minimum,
            "maximum": self.maximum,
        }


@dataclass(frozen=True)
class Flag:
    def parse(self, name: str, value: Any, current: Any = None) -> bool:
        if not isinstance(value, bool):
            raise ConfigValidationError(name, f"must be true or false, got {_type_name(value)}")
        return value

    def describe(self) -> str:
        return "boolean"

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True)
class NumberMap:
    """An object of numbers.

    With ``keys`` (a fixed set) an update merges key by key into the current map, and
    ``one_for_all`` also takes a single number for every key; ``descending`` requires the values
    not to increase in the order of ``keys``. Without ``keys`` any non-empty name is a key and
    an update replaces the whole map.
    """

    value: Number
    key_noun: str
    keys: tuple[str, ...] | None = None
    one_for_all: bool = False
    descending: bool = False

    def parse(self, name: str, value: Any, current: Mapping[str, float]) -> dict[str, float]:
        if self.one_for_all and self.keys and not isinstance(value, Mapping):
            return dict.fromkeys(self.keys, self.value.parse(name, value))
        if not isinstance(value, Mapping):
            raise ConfigValidationError(name, f"must be an object, got {_type_name(value)}")
        merged = dict(current) if self.keys else {}
        for key, number in value.items():
            if self.keys is None and (not isinstance(key, str) or not key):
                raise ConfigValidationError(name, f"{self.key_noun} names must be non-empty strings")
            if self.keys is not None and key not in self.keys:
                expected = ", ".join(self.keys)
                raise ConfigValidationError(
                    f"{name}.{key}", f"unknown {self.key_noun}; expected one of {expected}", unknown=True
                )
            merged[key] = self.value.parse(f"{name}.{key}", number)
        if self.descending and self.keys:
            for higher, lower in pairwise(self.keys):
                if merged[higher] < merged[lower]:
                    raise ConfigValidationError(f"{name}.{higher}", f"must not be below {name}.{lower}")
        return merged

    def describe(self) -> str:
        keys = "/".join(self.keys) if self.keys else self.key_noun
        text = f"object {keys} → {self.value.describe()}"
        if not self.keys:
            return text + "; an update replaces the whole map"
        text += "; an update merges per key"
        if self.one_for_all:
            text += ", a number sets all"
        if self.descending:
            text += f"; {' ≥ '.join(self.keys)}"
        return text

    def schema(self) -> dict[str, Any]:
        mapping: dict[str, Any]
        if self.keys is None:
            mapping = {
                "type": "object",
                "additionalProperties": self.value.schema(),
                "propertyNames": {"minLength": 1},
            }
        else:
            properties = dict.fromkeys(self.keys, self.value.schema())
            mapping = {"type": "object", "properties": properties, "additionalProperties": False}
        if self.one_for_all:
            return {"anyOf": [mapping, self.value.schema()], "description": self.describe()}
        return {**mapping, "description": self.describe()}


@dataclass(frozen=True)
class Subset:
    """A list of some of ``choices``, kept in the order of ``choices``."""

    choices: tuple[str, ...]
    noun: str

    def parse(self, name: str, value: Any, current: Any = None) -> tuple[str, ...]:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigValidationError(name, f"must be a list of {self.noun} names")
        unknown = sorted(set(value) - set(self.choices))
        if unknown:
            raise ConfigValidationError(name, f"unknown {unknown}; expected some of {list(self.choices)}")
        return tuple(c for c in self.choices if c in value)

    def describe(self) -> str:
        return f"list of {', '.join(self.choices)}"

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"enum": list(self.choices)}}


@dataclass(frozen=True)
class OptionSpec:
    kind: Kind
    help: str


def option(kind: Kind, help: str) -> dict[str, OptionSpec]:
    """A field's ``metadata`` declaring it a live option: ``field(default=..., metadata=option(...))``."""
    return {"option": OptionSpec(kind, help)}


def declared(options: Any) -> dict[str, OptionSpec]:
    """Name → spec of every option of the dataclass (or instance) ``options``, in declaration order."""
    return {f.name: f.metadata["option"] for f in dataclasses.fields(options) if "option" in f.metadata}


def _plain(value: Any) -> Any:
    """JSON-ready: mappings as dicts, tuples as lists."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def as_plain_dict(options: Any) -> dict[str, Any]:
    """Every option's value, JSON-ready (the answer of ``GET /config``)."""
    return {name: _plain(getattr(options, name)) for name in declared(options)}


def apply_update(current: T, update: Any) -> T:
    """A new options object: ``current`` with the keys of ``update`` validated and replaced.

    Unknown keys are refused before any value is looked at; ``current`` is never changed.
    """
    if not isinstance(update, Mapping):
        raise ConfigValidationError("$", "the configuration must be a JSON object")
    specs = declared(current)
    unknown = sorted(set(update) - set(specs))
    if unknown:
        raise ConfigValidationError(unknown[0], f"unknown option; known: {', '.join(specs)}", unknown=True)
    changes = {name: specs[name].kind.parse(name, v, getattr(current, name)) for name, v in update.items()}
    return dataclasses.replace(current, **changes)  # type: ignore[type-var]


def json_schema(options_class: type, *, complete: bool) -> dict[str, Any]:
    """JSON Schema of the options: ``complete`` (every key, ``GET /config``) or an update (any keys)."""
    defaults = as_plain_dict(options_class())
    properties = {
        name: {**spec.kind.schema(), "description": spec.help, "default": defaults[name]}
        for name, spec in declared(options_class).items()
    }
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if complete else [],
        "additionalProperties": False,
    }


def markdown_table(options_class: type) -> str:
    """The README table of every option: key, type, default, meaning."""
    defaults = as_plain_dict(options_class())
    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, spec in declared(options_class).items():
        default = json.dumps(defaults[name])
        rows.append(f"| `{name}` | {spec.kind.describe()} | `{default}` | {spec.help} |")
    return "\n".join(rows) + "\n"
