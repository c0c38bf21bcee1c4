"""JSON Schemas of the gateway's own answers (its routes' ``@doc`` use these)."""

from __future__ import annotations

from typing import Any

from ascep.common.openapi.schemas import (
    BOOLEAN,
    INTEGER,
    NUMBER,
    OBJECT,
    STRING,
    TIMESTAMP,
    array,
    nullable,
    obj,
)
from ascep.gateway.upstreams.splits import SPLIT_UPDATE_SCHEMA

INDEX = obj(
    {
        "name": STRING,
        "version": STRING,
        "uptime_seconds": NUMBER,
        "services": array(obj({"name": STRING, "endpoints": array(STRING), "description": STRING})),
        "routes": {"type": "object", "additionalProperties": STRING},
        "links": {"type": "object", "additionalProperties": STRING},
    }
)

_SERVICE_HEALTH = obj({"status": STRING}, required=["status"])
PLATFORM_HEALTH = obj(
    {
        "status": {"enum": ["healthy", "degraded", "unhealthy"]},
        "services": {"type": "object", "additionalProperties": _SERVICE_HEALTH},
        "summary": OBJECT,
    },
    required=["status"],
)

_SUMMARY = nullable(OBJECT)
LATENCY = obj(
    {
        "window_seconds": INTEGER,
        "percentile_method": STRING,
        "generated_at": TIMESTAMP,
        "filters": obj({"service": nullable(STRING), "endpoint": nullable(STRING)}),
        "overall": _SUMMARY,
        "services": {"type": "object", "additionalProperties": OBJECT},
        "retention_seconds": INTEGER,
        "max_samples_per_endpoint": INTEGER,
        "bucket_seconds": nullable(NUMBER),
        "series": array(OBJECT),
    },
    required=["window_seconds", "generated_at", "overall", "services", "retention_seconds"],
)

SERVICES = obj(
    {
        "services": array(
            obj(
                {
                    "name": STRING,
                    "host": nullable(STRING),
                    "port": INTEGER,
                    "endpoints": array(STRING),
                    "routes": array(STRING),
                    "description": STRING,
                    "health": OBJECT,
                    "latency": nullable(OBJECT),
                    "routable_instances": INTEGER,
                    "instances": array(OBJECT),
                    "policy": OBJECT,
                },
                required=["name", "endpoints", "routes", "health", "routable_instances", "instances"],
            )
        ),
        "count": INTEGER,
        "latency_available": BOOLEAN,
    }
)

_ARM = obj({"role": {"enum": ["stable", "canary"]}, "version": STRING, "basis_points": INTEGER})
SPLIT: dict[str, Any] = obj(
    {
        "service": STRING,
        "arms": array(_ARM),
        "salt": STRING,
        "generation": INTEGER,
        "updated_at": nullable({}),
        "rolled_back": nullable({}),
        "routable_instances": {"type": "object", "additionalProperties": INTEGER},
        "window": nullable(OBJECT),
    },
    required=["service", "arms", "salt", "generation"],
)
SPLITS = obj(
    {
        "splits": {"type": "object", "additionalProperties": SPLIT},
        "count": INTEGER,
        "key_header": STRING,
        "force_header": STRING,
        "rollback": OBJECT,
    }
)
SPLIT_UPDATE = SPLIT_UPDATE_SCHEMA
