"""The JSON Schema of a rule (served at ``GET /rules/schema``) and path-precise validation.

One schema document: the common fields, the ``where`` filter (``$defs.filter``), the actions
(discriminated by ``type``) and, per pattern, its own ``conditions`` schema selected with
``if pattern == X then conditions: <schema>`` — so errors point inside ``conditions`` instead of
a vague "not valid under any of the given schemas".
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ascep.cep.durations import DURATION_SCHEMA
from ascep.cep.errors import RuleError, join_path
from ascep.cep.filters import FILTER_SCHEMA
from ascep.cep.patterns import CUSTOM_NAME, default_patterns
from ascep.cep.patterns.custom import Custom
from ascep.common.channels import CEP_PUBLISH_PREFIX

STREAMS = ("prices", "signals", "alerts")
SEVERITIES = ("low", "medium", "high", "critical")
ACTION_TYPES = ("emit_alert", "emit_signal", "publish", "webhook", "log")
#: Fields the server owns: accepted on input (so a GET can be PUT back) and ignored.
#: ``last_triggered``/``trigger_count`` live apart from the rule (see :mod:`ascep.cep.triggers`).
SERVER_FIELDS = ("rule_id", "created_at", "updated_at", "version", "error", "last_triggered", "trigger_count")

_ACTION_SCHEMAS: dict[str, dict[str, Any]] = {
    "emit_alert": {
        "message": {
            "type": "string",
            "maxLength": 1000,
            "description": "Template; {field} takes the value from the last matched event.",
        },
        "severity": {"enum": list(SEVERITIES)},
    },
    "emit_signal": {
        "message": {
            "type": "string",
            "maxLength": 1000,
            "description": "Template, as for emit_alert; the signal goes out on cep_signals.",
        },
        "severity": {"enum": list(SEVERITIES)},
    },
    "publish": {
        "channel": {
            "type": "string",
            "minLength": 1,
            "maxLength": 200,
            "pattern": "^[A-Za-z0-9_.:-]+$",
            "description": f"A Redis channel in the rules' own namespace: '{CEP_PUBLISH_PREFIX}<name>'.",
        },
        "message": {"type": "string", "maxLength": 1000},
    },
    "webhook": {
        "url": {"type": "string", "pattern": "^https?://[^\\s]+$"},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 30, "default": 5},
        "retries": {"type": "integer", "minimum": 0, "maximum": 10, "default": 3},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "message": {"type": "string", "maxLength": 1000},
    },
    "log": {
        "level": {"enum": ["debug", "info", "warning", "error"], "default": "info"},
        "message": {"type": "string", "maxLength": 1000},
    },
}
_ACTION_REQUIRED = {"publish": ["channel"], "webhook": ["url"]}


def _action_schema() -> dict[str, Any]:
    branches = []
    for kind, props in _ACTION_SCHEMAS.items():
        branches.append(
            {
                "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
                "then": {
                    "properties": {"type": {"const": kind}, **props},
                    "required": _ACTION_REQUIRED.get(kind, []),
                    "additionalProperties": False,
                },
            }
        )
    return {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": list(ACTION_TYPES)}},
        "allOf": branches,
    }


@cache
def rule_schema() -> dict[str, Any]:
    """The whole rule schema (normalised form; the original ASCEP shape is converted first)."""
    patterns = default_patterns()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ascep.local/schemas/cep-rule.json",
        "title": "ASCEP CEP rule",
        "description": (
            "A rule evaluated on every event of its stream. Rules in the original ASCEP shape "
            "{name, pattern, action, conditions, enabled} are accepted and normalised to this form."
        ),
        "type": "object",
        "required": ["name", "pattern", "conditions"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "description": {"type": "string", "maxLength": 2000},
            "enabled": {"type": "boolean", "default": True},
            "stream": {"enum": list(STREAMS)},
            "partition_by": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "maxItems": 5,
                "uniqueItems": True,
            },
            "where": {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/filter"}]},
            "pattern": {
                "description": (
                    "a built-in pattern name, or any other name (a letter, then up to 63 letters, "
                    "digits, '_', '.', '-') for a custom pattern with conditions.custom_condition"
                ),
                "anyOf": [{"enum": [p.name for p in patterns]}, {"type": "string", "pattern": CUSTOM_NAME}],
            },
            "conditions": {"type": "object"},
            "action": {"type": "array", "minItems": 1, "maxItems": 10, "items": {"$ref": "#/$defs/action"}},
            "cooldown": DURATION_SCHEMA,
            "severity": {"enum": list(SEVERITIES)},
        },
        "allOf": [
            *(
                {
                    "if": {"properties": {"pattern": {"const": p.name}}, "required": ["pattern"]},
                    "then": {"properties": {"conditions": p.schema}},
                }
                for p in patterns
            ),
            {
                "if": {
                    "properties": {"pattern": {"not": {"enum": [p.name for p in patterns]}}},
                    "required": ["pattern"],
                },
                "then": {"properties": {"conditions": Custom.schema}},
            },
        ],
        "$defs": {"filter": FILTER_SCHEMA, "action": _action_schema()},
    }


@cache
def _validator() -> Draft202012Validator:
    Draft202012Validator.check_schema(rule_schema())
    return Draft202012Validator(rule_schema())


def schema_errors(rule: Mapping[str, Any]) -> list[RuleError]:
    """Every schema violation of ``rule`` as a :class:`RuleError` with a JSON path."""
    found: dict[str, RuleError] = {}
    for error in _validator().iter_errors(rule):
        for leaf in _leaves(error):
            converted = _convert(leaf)
            found.setdefault(converted.path, converted)
    return list(found.values())


def _leaves(error: ValidationError) -> list[ValidationError]:
    """For ``oneOf``/``anyOf`` keep the deepest sub-errors; they say what is actually wrong."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        deepest = max(len(e.absolute_path) for e in error.context)
        if deepest > len(error.absolute_path):
            return [e for e in error.context if len(e.absolute_path) == deepest][:1]
    return [error]


def _convert(error: ValidationError) -> RuleError:
    path = join_path("$", *error.absolute_path)
    instance = error.instance
    # jsonschema types these as possibly unset (or a boolean schema); ours are always set objects.
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    required = error.validator_value if isinstance(error.validator_value, list) else []
    if error.validator == "required" and isinstance(instance, Mapping):
        missing = next((p for p in required if p not in instance), "?")
        return RuleError(join_path(path, missing), "is required")
    if error.validator == "additionalProperties" and isinstance(instance, Mapping):
        allowed = sorted(schema.get("properties", {}))
        extras = sorted(k for k in instance if k not in allowed)
        name = extras[0] if extras else "?"
        return RuleError(join_path(path, name), f"unknown field; allowed: {', '.join(allowed)}")
    if error.validator in ("oneOf", "anyOf"):
        description = schema.get("description")
        if description:
            return RuleError(path, f"{instance!r} is not valid: {description}")
    return RuleError(path, error.message)
