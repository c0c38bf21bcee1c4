"""Schema fragments every spec shares: the error envelope, the error answers, small helpers.

The envelope schema mirrors :func:`ascep.common.errors.error_envelope` (a unit test renders real
errors and validates them against it); the codes listed per status come from the hierarchy in
:mod:`ascep.common.errors`, so a new error class shows up in the documentation by itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ascep.common import errors

ENVELOPE_NAME = "ErrorEnvelope"

ERROR_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "description": "Every HTTP error of ASCEP (some answers add fields next to it, e.g. a health report).",
    "required": ["error", "request_id"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "stable, machine-readable (e.g. NOT_FOUND)"},
                "message": {"type": "string", "description": "for people; never a traceback"},
                "details": {"type": "object", "description": "what the code needs to explain itself"},
            },
        },
        "request_id": {"type": ["string", "null"], "description": "the X-Request-ID of the call"},
    },
}

#: What each error status means anywhere in ASCEP (an operation may say more).
STATUS_MEANING: dict[int, str] = {
    400: "Malformed request (bad parameter, body not JSON, nesting too deep, bad Host)",
    401: "Credentials missing or invalid",
    403: "Credentials lack the scope this route needs, or the origin is not allowed",
    404: "Nothing here",
    405: "Method not allowed on this path",
    409: "Conflicts with the current state",
    413: "Body over the size limit",
    422: "Well-formed but invalid (details name the field)",
    429: "Rate limit reached; retry after Retry-After seconds",
    502: "The service behind the gateway answered badly or the connection failed",
    503: "A dependency (Redis, a service) is unavailable or overloaded; retry shortly",
    504: "The service did not answer in time",
}

_RETRY_AFTER = {429, 503}


def _codes_for(status: int) -> list[str]:
    """Every error code a class of :mod:`ascep.common.errors` answers with ``status``."""
    found: set[str] = set()
    pending: list[type[errors.AscepError]] = [errors.AscepError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.status_code == status and cls not in (errors.ClientError, errors.ServerError):
            found.add(cls.code)
    return sorted(found)


def response_name(status: int) -> str:
    return f"Error{status}"


def error_response(status: int, description: str = "") -> dict[str, Any]:
    """The response object of an error ``status`` (envelope body, ``Retry-After`` where sent)."""
    codes = _codes_for(status)
    text = description or STATUS_MEANING.get(status, "Error")
    if codes:
        text += f" (codes: {', '.join(codes)})"
    out: dict[str, Any] = {
        "description": text,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ENVELOPE_NAME}"}}},
    }
    if status in _RETRY_AFTER:
        out["headers"] = {
            "Retry-After": {"description": "seconds to wait (when known)", "schema": {"type": "integer"}}
        }
    return out


def error_responses(statuses: Iterable[int]) -> dict[str, Any]:
    """``components/responses`` for ``statuses`` (referenced as ``Error<status>``)."""
    return {response_name(s): error_response(s) for s in sorted(set(statuses))}


def obj(properties: Mapping[str, Any], required: Iterable[str] | None = None, **extra: Any) -> dict[str, Any]:
    """An object schema; every property is required unless ``required`` says otherwise."""
    out: dict[str, Any] = {
        "type": "object",
        "required": list(properties) if required is None else list(required),
        "properties": dict(properties),
    }
    out.update(extra)
    return out


def nullable(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` or ``null`` (``type`` widened when it is a single type, else ``anyOf``)."""
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [dict(schema), {"type": "null"}]}


def array(items: Any) -> dict[str, Any]:
    return {"type": "array", "items": items}


STRING: dict[str, Any] = {"type": "string"}
INTEGER: dict[str, Any] = {"type": "integer"}
NUMBER: dict[str, Any] = {"type": "number"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
OBJECT: dict[str, Any] = {"type": "object"}
TIMESTAMP: dict[str, Any] = {"type": "string", "description": "ISO 8601 UTC"}
