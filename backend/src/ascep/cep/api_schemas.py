"""JSON Schemas of the CEP engine's API. The rule body is :func:`ascep.cep.schema.rule_schema`,
the very schema every rule is validated with; an alert is the ``cep_alert`` event's definition."""

from __future__ import annotations

from typing import Any

from ascep.cep.replay import MAX_REPLAY_EVENTS
from ascep.cep.schema import rule_schema
from ascep.common.event_schemas import event_schema
from ascep.common.events import CepAlert
from ascep.common.openapi import Component
from ascep.common.openapi.schemas import INTEGER, OBJECT, STRING, TIMESTAMP, array, nullable, obj

RULE = Component("CepRule", rule_schema())
ALERT = Component("CepAlert", event_schema(CepAlert))


def _stored_rule() -> dict[str, Any]:
    """A stored rule: the canonical rule plus the fields the server owns (not re-validated here)."""
    properties: dict[str, Any] = {name: {} for name in rule_schema()["properties"]}
    properties |= {
        "name": STRING,
        "pattern": STRING,
        "conditions": OBJECT,
        "rule_id": INTEGER,
        "version": INTEGER,
        "created_at": nullable(TIMESTAMP),
        "updated_at": nullable(TIMESTAMP),
        "error": nullable(obj({"message": STRING, "at": TIMESTAMP}, required=["message"])),
    }
    return obj(properties, required=["rule_id", "version", "name", "pattern", "conditions"])


STORED_RULE = Component("CepStoredRule", _stored_rule())
ONE_RULE = obj({"rule": STORED_RULE})
RULE_LIST = obj({"rules": array(STORED_RULE), "count": INTEGER})
DELETED = obj({"rule": STORED_RULE, "deleted": {"const": True}})
VALID = obj({"valid": {"const": True}, "rule": OBJECT})

_EVENTS = {"type": "array", "maxItems": MAX_REPLAY_EVENTS, "items": OBJECT}
_UNTIL = {
    "type": "integer",
    "description": "epoch ms: windows still open then are closed (absence rules fire)",
}
TEST_BODY = obj({"rule": RULE, "events": _EVENTS, "until": _UNTIL}, required=["rule", "events"])
TEST_STORED_BODY = {
    "anyOf": [obj({"events": _EVENTS, "until": _UNTIL}, required=["events"]), _EVENTS],
    "description": '{"events": [...]} or the bare list',
}
REPLAY = obj(
    {
        "matches": array(ALERT),
        "count": INTEGER,
        "events": INTEGER,
        "malformed_events": INTEGER,
        "late_events": INTEGER,
        "suppressed_by_cooldown": INTEGER,
        "error": nullable(STRING),
    }
)
ALERTS = obj({"alerts": array(ALERT), "count": INTEGER, "limit": INTEGER, "rule_id": nullable(INTEGER)})
STATS = obj({"engine": obj({"rules_loaded": INTEGER, "rules_active": INTEGER}), "rules": array(OBJECT)})
SCHEMA = {"type": "object", "description": "the JSON Schema (draft 2020-12) of a rule"}
