"""From JSON to a runnable rule: normalise, validate against the schema, compile.

:func:`validate_rule` is the single entry point used by the HTTP API, the replay function and the
engine when it loads rules from Redis, so every path rejects exactly the same rules with exactly
the same JSON-path errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ascep.cep.durations import to_ms
from ascep.cep.errors import RuleError, RuleValidationError, join_path
from ascep.cep.filters import Predicate, compile_filter, is_symbol_pin, symbols_of
from ascep.cep.limits import Limits
from ascep.cep.normalise import normalise, unknown_pattern
from ascep.cep.patterns import Pattern, pattern_class
from ascep.cep.schema import SERVER_FIELDS, schema_errors
from ascep.common import channels

#: How deeply a whole rule may nest (objects and arrays). The deepest legal rule — a filter nested
#: :data:`~ascep.cep.filters.MAX_DEPTH` levels inside a ``sequence`` step — is about 24 levels;
#: anything deeper is refused before JSON Schema validation, which recurses once per level.
MAX_RULE_NESTING = 32


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A validated rule ready for the engine; ``spec`` is its canonical JSON (with server fields)."""

    rule_id: int
    version: int
    spec: dict[str, Any]
    name: str
    stream: str
    enabled: bool
    where: Predicate | None
    symbols: frozenset[str] | None
    where_is_symbol_pin: bool  # ``where`` only restricts ``symbol`` (the engine's index does that)
    partition_by: tuple[str, ...]
    pattern: Pattern
    cooldown_ms: int
    severity: str
    actions: tuple[dict[str, Any], ...]


def canonical(raw: Any) -> dict[str, Any]:
    """Normalise and schema-check ``raw``; raise :class:`RuleValidationError` listing every problem."""
    rule = normalise(raw)
    too_deep = _deeper_than(rule, MAX_RULE_NESTING)
    if too_deep is not None:
        message = f"a rule nests at most {MAX_RULE_NESTING} levels deep"
        raise RuleValidationError([RuleError(too_deep, message)])
    unknown = unknown_pattern(rule)
    if unknown is not None:
        raise RuleValidationError([unknown])
    errors = schema_errors(rule)
    if errors:
        raise RuleValidationError(errors)
    return rule


def _deeper_than(document: Any, limit: int) -> str | None:
    """JSON path of the first object/array nested deeper than ``limit``, else ``None``.

    Iterative (an explicit stack), so a document nested thousands of levels deep is measured
    without recursion; paths are only built for containers.
    """
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(document, ())]
    while stack:
        value, parts = stack.pop()
        if isinstance(value, Mapping):
            children: Any = value.items()
        elif isinstance(value, list):
            children = enumerate(value)
        else:
            continue
        if len(parts) >= limit:
            return join_path("$", *parts)
        stack.extend((child, (*parts, key)) for key, child in children if isinstance(child, Mapping | list))
    return None


def validate_rule(
    raw: Any, limits: Limits | None = None, *, rule_id: int = 0, version: int = 0
) -> CompiledRule:
    """Validate and compile ``raw``; server fields present in ``raw`` are kept in ``spec``."""
    limits = limits or Limits()
    rule = canonical(raw)
    try:
        compiled = _compile(rule, limits, rule_id, version)
    except RuleError as exc:
        raise RuleValidationError([exc]) from exc
    if isinstance(raw, Mapping):
        for field in SERVER_FIELDS:
            if field in raw:
                compiled.spec[field] = raw[field]
    compiled.spec["rule_id"] = rule_id or compiled.spec.get("rule_id")
    return compiled


def _compile(rule: dict[str, Any], limits: Limits, rule_id: int, version: int) -> CompiledRule:
    pattern_cls = pattern_class(rule["pattern"])
    assert pattern_cls is not None  # canonical() refused any other name
    where_spec = rule.get("where")
    where = compile_filter(where_spec, "$.where") if where_spec else None
    pattern = pattern_cls(rule["conditions"], limits, "$.conditions")
    for i, action in enumerate(rule["action"]):
        if action["type"] == "publish" and not channels.cep_may_publish(action["channel"]):
            raise RuleError(
                f"$.action[{i}].channel",
                f"rules may publish only on channels starting with '{channels.CEP_PUBLISH_PREFIX}' "
                f"(e.g. '{channels.CEP_PUBLISH_PREFIX}my_alerts'); use emit_alert to reach "
                f"{channels.CEP_ALERTS}",
            )
    severity = rule["severity"]
    return CompiledRule(
        rule_id=rule_id,
        version=version,
        spec=rule,
        name=rule["name"],
        stream=rule["stream"],
        enabled=bool(rule["enabled"]),
        where=where,
        symbols=symbols_of(where_spec),
        where_is_symbol_pin=is_symbol_pin(where_spec),
        partition_by=tuple(rule["partition_by"]),
        pattern=pattern,
        cooldown_ms=to_ms(rule["cooldown"], "$.cooldown"),
        severity=severity,
        actions=tuple(dict(a) for a in rule["action"]),
    )
