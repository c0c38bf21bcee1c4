"""Turn a Flask app's URL map and the views' :func:`~ascep.common.openapi.doc` into OpenAPI 3.1.

Walking the URL map (rather than a list of declarations) is what keeps the spec complete: every
route appears, a route whose view declares nothing is flagged ``x-undocumented`` (the unit test
``tests/unit/common/openapi/test_service_specs.py`` fails on it), and a declaration cannot name
a path no rule serves (the same test matches every documented path against the URL map).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Rule

from ascep import __version__
from ascep.common.openapi.model import Component, Operation, Reply, operations_of
from ascep.common.openapi.params import Param
from ascep.common.openapi.schemas import ENVELOPE_NAME, ERROR_ENVELOPE, error_response, error_responses

OPENAPI_VERSION = "3.1.0"
#: Methods Flask adds by itself; never documented separately.
_IMPLICIT = frozenset({"HEAD", "OPTIONS"})
_RULE_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_PATH_VARIABLE = re.compile(r"{([^{}]+)}")


def openapi_path(rule: Rule) -> str:
    """``/signals/<signal_id>`` -> ``/signals/{signal_id}``."""
    return _RULE_VARIABLE.sub(r"{\1}", rule.rule)


def operation_id(method: str, path: str) -> str:
    """``get`` + ``/prices/{symbol}/history`` -> ``get_prices_symbol_history`` (unique per path)."""
    slug = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")
    return f"{method.lower()}_{slug}" if slug else f"{method.lower()}_root"


class Components:
    """Schemas named by :class:`Component`, registered once and replaced by ``$ref`` where used."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {ENVELOPE_NAME: copy.deepcopy(ERROR_ENVELOPE)}

    def use(self, schema: Any) -> Any:
        """``schema`` with every :class:`Component` inside it registered and replaced by a ref."""
        if isinstance(schema, Component):
            self._register(schema)
            return {"$ref": f"#/components/schemas/{schema.name}"}
        if isinstance(schema, Mapping):
            if "$defs" in schema:
                raise ValueError("a schema with $defs must be a Component (its $defs become components)")
            return {key: self.use(value) for key, value in schema.items()}
        if isinstance(schema, list | tuple):
            return [self.use(item) for item in schema]
        return schema

    def _register(self, component: Component) -> None:
        body = dict(component.schema)
        defs = body.pop("$defs", {})
        body.pop("$id", None)
        body.pop("$schema", None)
        renames = {f"#/$defs/{key}": f"#/components/schemas/{component.name}_{key}" for key in defs}
        found = {component.name: body, **{f"{component.name}_{k}": v for k, v in defs.items()}}
        for name, schema in found.items():
            rendered = self.use(_rewrite_refs(schema, renames))
            existing = self.schemas.get(name)
            if existing is not None and existing != rendered:
                raise ValueError(f"two different schemas are named {name!r}")
            self.schemas[name] = rendered


def _rewrite_refs(schema: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(schema, Mapping):
        return {
            k: (renames.get(v, v) if k == "$ref" and isinstance(v, str) else _rewrite_refs(v, renames))
            for k, v in schema.items()
        }
    if isinstance(schema, list | tuple):
        return [_rewrite_refs(item, renames) for item in schema]
    return schema


def build_spec(
    app: Flask,
    *,
    title: str,
    description: str = "",
    tag: str,
    common_errors: Iterable[int] = (503,),
    skip_endpoints: Iterable[str] = ("static",),
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``: every rule of its URL map, as its views declare it.

    ``common_errors`` are answers any operation may give (503: Redis unreachable, which the
    global handler of :mod:`ascep.common.web` answers for every view).
    """
    components = Components()
    paths: dict[str, dict[str, Any]] = {}
    statuses: set[int] = set()
    skipped = set(skip_endpoints)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in skipped:
            continue
        declared = operations_of(app.view_functions[rule.endpoint])
        for method in sorted((rule.methods or set()) - _IMPLICIT):
            matching: list[Operation | None] = [op for op in declared if op.applies_to(method)]
            for op in matching or [None]:
                path = (op.path if op is not None else None) or openapi_path(rule)
                rendered = _operation(op, method, path, rule, tag, components, common_errors)
                statuses.update(_error_statuses(rendered))
                paths.setdefault(path, {})[method.lower()] = rendered
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": __version__, "description": description},
        "paths": paths,
        "components": {"schemas": components.schemas, "responses": error_responses(statuses)},
        "tags": [{"name": tag, "description": description}],
    }


def _error_statuses(rendered: Mapping[str, Any]) -> set[int]:
    return {
        int(status)
        for status, response in rendered["responses"].items()
        if isinstance(response, Mapping) and "$ref" in response
    }


def _operation(
    op: Operation | None,
    method: str,
    path: str,
    rule: Rule,
    tag: str,
    components: Components,
    common_errors: Iterable[int],
) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": operation_id(method, path), "tags": [tag]}
    path_params = [_path_param(name, op, rule) for name in _PATH_VARIABLE.findall(path)]
    if op is None:
        out["summary"] = f"{rule.endpoint} (undocumented)"
        out["x-undocumented"] = True
        if path_params:
            out["parameters"] = path_params
        out["responses"] = {"default": {"description": "not described"}}
        return out
    out["summary"] = op.summary
    if op.description:
        out["description"] = op.description
    if op.tags:
        out["tags"] = list(op.tags)
    parameters = path_params + [p.spec() for p in op.query]
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        out["requestBody"] = {
            "required": op.body.required,
            "content": {op.body.media: {"schema": components.use(op.body.schema)}},
        }
        if op.body.description:
            out["requestBody"]["description"] = op.body.description
    if op.public:
        out["x-public"] = True
    responses: dict[str, Any] = {str(s): _reply(r, components) for s, r in sorted(op.replies.items())}
    errors: dict[int, str] = {status: "" for status in common_errors}
    if parameters:
        errors[400] = ""
    if op.body is not None:
        errors.update({400: "", 413: ""})
    errors.update(op.errors)
    for status, text in sorted(errors.items()):
        if str(status) not in responses:
            responses[str(status)] = (
                error_response(status, text) if text else {"$ref": f"#/components/responses/Error{status}"}
            )
    out["responses"] = responses
    return out


def _path_param(name: str, op: Operation | None, rule: Rule) -> dict[str, Any]:
    declared: Param | None = op.params.get(name) if op is not None else None
    if declared is not None:
        return declared.spec()
    converter = rule._converters.get(name)  # werkzeug keeps the converters only here
    schema = {"type": "integer"} if isinstance(converter, IntegerConverter) else {"type": "string"}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _reply(reply: Reply, components: Components) -> dict[str, Any]:
    out: dict[str, Any] = {"description": reply.description}
    if reply.schema is not None:
        out["content"] = {reply.media: {"schema": components.use(reply.schema)}}
    elif reply.media != "application/json":
        out["content"] = {reply.media: {"schema": {"type": "string"}}}
    if reply.headers:
        out["headers"] = {
            name: {"description": text, "schema": {"type": "string"}} for name, text in reply.headers.items()
        }
    return out
