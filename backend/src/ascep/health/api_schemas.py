"""JSON Schemas of the health monitor's answers (its OpenAPI document is built from these)."""

from __future__ import annotations

from ascep.common.event_schemas import event_schema
from ascep.common.events import HEALTH_STATES, ServiceStatus
from ascep.common.openapi import Component
from ascep.common.openapi.schemas import INTEGER, NUMBER, OBJECT, STRING, TIMESTAMP, array, nullable, obj

_STATUS = {"enum": list(HEALTH_STATES)}

TARGET = Component(
    "WatchedTarget",
    obj(
        {
            "status": _STATUS,
            "reason": nullable(STRING),
            "kind": STRING,
            "url": nullable(STRING),
            "description": nullable(STRING),
            "response_time_ms": nullable(NUMBER),
            "http_status": nullable(INTEGER),
            "error": nullable(STRING),
        }
    ),
)

SERVICES_REPORT = obj(
    {
        "status": _STATUS,
        "timestamp": TIMESTAMP,
        "rounds": INTEGER,
        "last_round": nullable(TIMESTAMP),
        "services": {"type": "object", "additionalProperties": TARGET},
        "summary": {"type": "object", "additionalProperties": INTEGER},
    }
)

SYSTEM = obj({"host": OBJECT, "redis": obj({"available": {"type": "boolean"}}, required=["available"])})

FULL_REPORT = {**SERVICES_REPORT, "required": [*SERVICES_REPORT["required"], "system"]}
FULL_REPORT["properties"] = {**SERVICES_REPORT["properties"], "system": SYSTEM}

ONE_TARGET = {"allOf": [obj({"service": STRING}), TARGET]}

HISTORY = obj(
    {
        "service": nullable(STRING),
        "since": TIMESTAMP,
        "changes": array(Component("ServiceStatus", event_schema(ServiceStatus))),
        "checks": array(OBJECT),
    },
    required=["service", "since", "changes"],
)
