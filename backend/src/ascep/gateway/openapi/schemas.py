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
        "data_since": nullable(TIMESTAMP),
        "data_since_ts": nullable(INTEGER),
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

SCOPE_NAME: dict[str, Any] = {"enum": ["read", "write", "admin"]}
AUTH_CONFIG = obj(
    {
        "mode": {"enum": ["off", "required"]},
        "token_endpoint": STRING,
        "grant_types": array(STRING),
        "token_issuing": BOOLEAN,
        "token_ttl_seconds": INTEGER,
        "scopes": array(STRING),
    }
)
TOKEN_REQUEST = obj(
    {
        "grant_type": {"enum": ["password", "client_credentials"]},
        "username": STRING,
        "password": STRING,
        "client_id": STRING,
        "client_secret": STRING,
        "scope": {"type": "string", "description": "Space-separated scopes to narrow the token to"},
    },
    required=["grant_type"],
)
TOKEN = obj(
    {"access_token": STRING, "token_type": {"enum": ["Bearer"]}, "expires_in": INTEGER, "scope": STRING}
)
CALLER = obj(
    {
        "subject": STRING,
        "kind": {"enum": ["jwt", "api_key", "anonymous"]},
        "scopes": array(STRING),
        "key_id": nullable(STRING),
        "authenticated": BOOLEAN,
        "auth_mode": {"enum": ["off", "required"]},
        "expires_at": nullable(INTEGER),
    }
)
_RECORD = {"id": STRING, "scopes": array(STRING), "created_at": STRING, "created_by": STRING}
API_KEY = obj({**_RECORD, "name": STRING})
NEW_API_KEY = obj({**_RECORD, "name": STRING, "key": {"type": "string", "description": "Shown once"}})
API_KEYS = obj({"keys": array(API_KEY), "count": INTEGER})
API_KEY_CREATE = obj(
    {"name": {"type": "string", "minLength": 1, "maxLength": 100}, "scopes": array(SCOPE_NAME)}
)
USER = obj({**_RECORD, "username": STRING})
USERS = obj({"users": array(USER), "count": INTEGER})
USER_CREATE = obj(
    {
        "username": STRING,
        "password": {"type": "string", "minLength": 12, "maxLength": 1024},
        "scopes": array(SCOPE_NAME),
    }
)

_POLICY = obj(
    {
        "limit": {"type": "string", "description": "`100/60s`, `10/s burst 20` or `off`"},
        "source": STRING,
        "quota": INTEGER,
        "window_seconds": NUMBER,
        "rate_per_second": NUMBER,
    },
    required=["limit", "source"],
)
RATE_LIMIT = obj(
    {
        **_POLICY["properties"],
        "target": STRING,
        "configured": _POLICY,
        "override": nullable(obj({"limit": STRING, "updated_at": STRING, "generation": INTEGER})),
    },
    required=["target", "limit", "source", "configured", "override"],
)
RATE_LIMITS = obj(
    {
        "algorithm": {"enum": ["gcra", "sliding_window"]},
        "fail_mode": {"enum": ["open", "closed"]},
        "trusted_proxies": array(STRING),
        "targets": {"type": "object", "additionalProperties": RATE_LIMIT},
        "limited": array(
            obj(
                {
                    "target": STRING,
                    "client": {"type": "string", "description": "`key:<id>`, `sub:<subject>`, `ip:<addr>`"},
                    "refused": INTEGER,
                    "last_refused_at": STRING,
                    "retry_after_s": INTEGER,
                }
            )
        ),
        "limited_window_seconds": NUMBER,
    }
)
RATE_LIMIT_UPDATE = obj(
    {"limit": {"type": "string", "maxLength": 64, "examples": ["100/60s", "10/s burst 20"]}}
)
