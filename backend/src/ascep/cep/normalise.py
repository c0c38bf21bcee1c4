"""Bring a rule into its one canonical shape before validation.

Accepts the original ASCEP shape ``{"name", "pattern", "action", "conditions", "enabled"}`` as-is:
``action`` may be a string (the original words ``send_alert``, ``create_signal``, ``log_event``,
``generate_alert``, ``generate_signal``, or ``alert``, ``log``...) or one object; ``conditions``
may use the old parameter names (``price_change_threshold``, ``volume_threshold``,
``spread_threshold``, ``ma_short``, ``threshold``, ``timeframe``...) and may carry
``symbol``/``symbols``, which become a ``where`` filter. A rule sent in that shape (its ``action``
a string, as every original client sends it) gets the original engine's defaults for what its
conditions leave out (``price_spike``: 5 % vs the previous price...). Any pattern name that is not
built in is a custom pattern. Missing optional fields get their defaults, so a stored rule always
shows every setting that applies to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ascep.cep.errors import RuleError, RuleValidationError
from ascep.cep.patterns import PATTERNS, pattern_class
from ascep.cep.schema import SERVER_FIELDS

#: Legacy action words -> action types (the original engine's first, then older spellings).
ACTION_WORDS = {
    "send_alert": "emit_alert",
    "generate_alert": "emit_alert",
    "create_signal": "emit_signal",
    "generate_signal": "emit_signal",
    "log_event": "log",
    "alert": "emit_alert",
    "emit_alert": "emit_alert",
    "notify": "emit_alert",
    "notification": "emit_alert",
    "signal": "emit_signal",
    "emit_signal": "emit_signal",
    "log": "log",
    "publish": "publish",
    "webhook": "webhook",
}
DEFAULT_PARTITIONS = {"prices": ["symbol"], "signals": [], "alerts": []}


def normalise(raw: Any) -> dict[str, Any]:
    """The canonical form of ``raw`` (not yet validated); raises only if it is not an object."""
    if not isinstance(raw, Mapping):
        raise RuleValidationError([RuleError("$", "a rule must be a JSON object")])
    rule = {k: v for k, v in raw.items() if k not in SERVER_FIELDS}
    if "actions" in rule and "action" not in rule:
        rule["action"] = rule.pop("actions")
    original = isinstance(rule.get("action"), str)
    pattern_name = rule.get("pattern")
    pattern = pattern_class(pattern_name)
    conditions = rule.get("conditions", {})
    if conditions is None and original:
        conditions = {}  # the original engine took a missing/null conditions as "no conditions"
    if pattern is not None and isinstance(conditions, Mapping):
        conditions = dict(conditions)
        legacy_where = _symbol_filter(conditions, pattern.schema.get("properties", {}))
        rule["conditions"] = pattern.normalise(conditions, original=original)
        if legacy_where is not None:
            existing = rule.get("where")
            rule["where"] = legacy_where if not existing else {"all": [existing, legacy_where]}
    elif "conditions" not in rule:
        rule["conditions"] = {}
    rule["action"] = _actions(rule.get("action", [{"type": "emit_alert"}]))
    rule.setdefault("description", "")
    rule.setdefault("enabled", True)
    stream = rule.setdefault("stream", pattern.default_stream if pattern else "prices")
    if "partition_by" not in rule:
        rule["partition_by"] = list(DEFAULT_PARTITIONS.get(stream, [])) if isinstance(stream, str) else []
    rule.setdefault("where", None)
    rule.setdefault("cooldown", 0)
    rule.setdefault("severity", "medium")
    return rule


def _symbol_filter(conditions: dict[str, Any], known: Mapping[str, Any]) -> dict[str, Any] | None:
    """Pop legacy ``symbol``/``symbols`` out of ``conditions`` as a filter on ``symbol``."""
    if "symbol" in conditions and "symbol" not in known and isinstance(conditions["symbol"], str):
        return {"field": "symbol", "op": "==", "value": conditions.pop("symbol")}
    if "symbols" in conditions and "symbols" not in known and isinstance(conditions["symbols"], list):
        return {"field": "symbol", "op": "in", "value": conditions.pop("symbols")}
    return None


def unknown_pattern(rule: Mapping[str, Any]) -> RuleError | None:
    """Why ``rule``'s pattern can be neither built in nor custom, in words (else ``None``)."""
    name = rule.get("pattern")
    if not isinstance(name, str) or name in PATTERNS:
        return None
    conditions = rule.get("conditions")
    if (
        pattern_class(name) is not None
        and isinstance(conditions, Mapping)
        and "custom_condition" in conditions
    ):
        return None
    known = ", ".join(p for p in PATTERNS if p != "custom")
    if pattern_class(name) is None:
        reason = "a custom pattern name is a letter then up to 63 letters, digits, '_', '.', '-'"
    else:
        reason = "any other name is a custom pattern and needs conditions.custom_condition"
    return RuleError("$.pattern", f"unknown pattern {name!r} (built in: {known}); {reason}")


def _actions(raw: Any) -> Any:
    if isinstance(raw, str):
        return [{"type": ACTION_WORDS.get(raw.strip().lower(), raw)}]
    if isinstance(raw, Mapping):
        raw = [raw]
    if isinstance(raw, list):
        return [_action(item) for item in raw]
    return raw


def _action(item: Any) -> Any:
    """An action object with an original word as its ``type`` gets the canonical type."""
    if isinstance(item, Mapping) and isinstance(item.get("type"), str):
        return {**item, "type": ACTION_WORDS.get(item["type"].strip().lower(), item["type"])}
    return dict(item) if isinstance(item, Mapping) else item
