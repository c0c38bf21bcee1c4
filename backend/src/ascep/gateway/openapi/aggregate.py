"""Merge the gateway's own document and the services' into the one the platform publishes (pure).

Each service's paths that lie under its registered endpoints are kept, prefixed as the gateway
routes them (``/rules`` -> ``/api/rules``); paths the gateway does not route (a service's own
``/health``) are left out. Operation ids become ``<service>.<id>`` and component names
``<service>.<name>`` — except a component identical to the gateway's own (the error envelope,
the standard error answers), which is shared — so two services can never collide. Every
operation gets the service's tag, the security the gateway enforces, and the error answers the
gateway itself may give in front of the service.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ascep.common.openapi.builder import OPENAPI_VERSION
from ascep.common.openapi.schemas import error_responses, response_name
from ascep.gateway.openapi.security import AUTH_ANSWERS, PROXY_ANSWERS, SECURITY_SCHEMES, security_for

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
GATEWAY_TAG = "gateway"
API_PREFIX = "/api"
_KINDS = ("schemas", "responses", "parameters", "requestBodies", "headers", "examples")

SpecState = Literal["fresh", "stale", "unavailable"]


@dataclass(frozen=True)
class ServiceDoc:
    """One service's contribution: its last good document (``None`` if never fetched) and how old."""

    name: str
    endpoints: tuple[str, ...]
    description: str
    spec: Mapping[str, Any] | None
    state: SpecState
    fetched_at: str | None = None
    error: str | None = None

    def note(self) -> str:
        if self.state == "fresh":
            return ""
        if self.state == "stale":
            return f"stale copy fetched at {self.fetched_at}: the service is unreachable now ({self.error})"
        return f"its paths are missing: the service could not be asked yet ({self.error})"


def aggregate(
    own: Mapping[str, Any],
    services: Sequence[ServiceDoc],
    *,
    auth_required: bool,
    title: str,
    version: str,
    description: str,
) -> dict[str, Any]:
    """The platform's OpenAPI document (see the module docstring)."""
    components: dict[str, dict[str, Any]] = {kind: {} for kind in _KINDS}
    for kind in _KINDS:
        components[kind].update(copy.deepcopy(own.get("components", {}).get(kind, {})))
    components["responses"].update(
        {k: v for k, v in error_responses(PROXY_ANSWERS).items() if k not in components["responses"]}
    )
    paths: dict[str, Any] = {}
    for path, item in own.get("paths", {}).items():
        paths[path] = _operations(item, path, GATEWAY_TAG, auth_required, AUTH_ANSWERS)
    tags = [
        {
            "name": GATEWAY_TAG,
            "description": "The gateway's own routes: health, latency, services, splits, docs",
        }
    ]
    for service in services:
        tags.append(_tag(service))
        if service.spec is not None:
            _merge_service(service, service.spec, paths, components, auth_required)
    info = {
        "title": title,
        "version": version,
        "description": _description(description, services),
        "x-ascep-services": {s.name: _state(s) for s in services},
    }
    return {
        "openapi": OPENAPI_VERSION,
        "info": info,
        "paths": dict(sorted(paths.items())),
        "components": {**{k: v for k, v in components.items() if v}, "securitySchemes": SECURITY_SCHEMES},
        "tags": tags,
    }


def _merge_service(
    service: ServiceDoc,
    spec: Mapping[str, Any],
    paths: dict[str, Any],
    components: dict[str, dict[str, Any]],
    auth_required: bool,
) -> None:
    renames: dict[str, str] = {}
    theirs = spec.get("components", {})
    for kind in _KINDS:
        for name, value in (theirs.get(kind) or {}).items():
            shared = components[kind].get(name)
            target = name if shared is not None and shared == value else f"{service.name}.{name}"
            renames[f"#/components/{kind}/{name}"] = f"#/components/{kind}/{target}"
    for kind in _KINDS:
        for name, value in (theirs.get(kind) or {}).items():
            target = renames[f"#/components/{kind}/{name}"].rsplit("/", 1)[1]
            components[kind].setdefault(target, _rewrite(value, renames))
    for path, item in (spec.get("paths") or {}).items():
        if not isinstance(item, Mapping) or not _routed(path, service.endpoints):
            continue
        routed = API_PREFIX + path
        if routed in paths:  # a gateway route: the gateway answers it, never the service
            continue
        rendered = _operations(_rewrite(item, renames), routed, service.name, auth_required, PROXY_ANSWERS)
        paths[routed] = rendered


def _routed(path: str, endpoints: Iterable[str]) -> bool:
    return any(path == e or path.startswith(e + "/") for e in endpoints)


def _operations(
    item: Mapping[str, Any], path: str, tag: str, auth_required: bool, added: Iterable[int]
) -> dict[str, Any]:
    out = dict(item)
    for method in METHODS:
        operation = item.get(method)
        if not isinstance(operation, Mapping):
            continue
        op = dict(operation)
        op["operationId"] = f"{tag}.{op.get('operationId') or method + path.replace('/', '_')}"
        op["tags"] = [tag]
        public = bool(op.get("x-public"))
        op["security"] = security_for(method, path, auth_required=auth_required, public=public)
        responses = dict(op.get("responses") or {})
        for status in () if public and tag == GATEWAY_TAG else added:
            responses.setdefault(str(status), {"$ref": f"#/components/responses/{response_name(status)}"})
        op["responses"] = dict(sorted(responses.items()))
        out[method] = op
    return out


def _rewrite(value: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(value, Mapping):
        return {
            k: (renames.get(v, v) if k == "$ref" and isinstance(v, str) else _rewrite(v, renames))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rewrite(v, renames) for v in value]
    return value


def _tag(service: ServiceDoc) -> dict[str, Any]:
    note = service.note()
    text = service.description + (f" — {note}" if note else "")
    return {"name": service.name, "description": text, "x-ascep-state": service.state}


def _state(service: ServiceDoc) -> dict[str, Any]:
    return {"state": service.state, "fetched_at": service.fetched_at, "error": service.error}


def _description(description: str, services: Sequence[ServiceDoc]) -> str:
    notes = [f"- **{s.name}**: {s.note()}" for s in services if s.state != "fresh"]
    if not notes:
        return description
    return description + "\n\nNot current:\n" + "\n".join(notes)
