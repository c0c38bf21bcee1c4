"""Bring a rule into its one canonical shape before validation.

Accepts the original ASCEP shape ``{"name", "pattern", "action", "conditions", "enabled"}`` as-is:
``action`` may be a string (``"alert"``, ``"log"``...) or one object; ``conditions`` may use the
old parameter names (``threshold``, ``timeframe``...) and may carry ``symbol``/``symbols``, which
become a ``where`` filter. Missing optional fields get their defaults, so a stored rule always
shows every setting that applies to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ascep.cep.errors import RuleError, RuleValidationError
from ascep.cep.patterns import PATTERNS
from ascep.cep.schema import SERVER_FIELDS

#: Legacy action words -> action types.
ACTION_WORDS = {
    "alert": "emit_alert",
    "emit_alert": "emit_alert",
    "notify": "emit_alert",
    "notification": "emit_alert",
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
    pattern_name = rule.get("pattern")
    pattern = PATTERNS.get(pattern_name) if isinstance(pattern_name, str) else None
    conditions = rule.get("conditions", {})
    if pattern is not None and isinstance(conditions, Mapping):
        conditions = dict(conditions)
        legacy_where = _symbol_filter(conditions, pattern.schema.get("properties", {}))
        rule["conditions"] = pattern.normalise(conditions)
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


def _actions(raw: Any) -> Any:
    if isinstance(raw, str):
        return [{"type": ACTION_WORDS.get(raw.strip().lower(), raw)}]
    if isinstance(raw, Mapping):
        return [dict(raw)]
    return raw
