"""Every app's OpenAPI document matches its URL map, both ways, and is valid OpenAPI 3.1.

A route added without ``@doc`` fails here (``x-undocumented``), and so does a documented path no
rule serves. The gateway's own routes are checked the same way: its proxied ``/api/...`` paths
come from the services' documents (``tests/unit/gateway/openapi``).
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
from flask import Flask
from openapi_spec_validator import validate
from werkzeug.exceptions import MethodNotAllowed, NotFound

from ascep.common.openapi.views import service_spec

APPS = ["ascep.gateway", "ascep.health", "ascep.price_feed", "ascep.arbitrage", "ascep.cep", "ascep.tasks"]
CONFIG = {"REDIS_URL": "redis://127.0.0.1:9/0", "ASYNC_MODE": "threading", "TESTING": True}
METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture(scope="module", params=APPS)
def app(request: pytest.FixtureRequest) -> Flask:
    return importlib.import_module(request.param).create_app(dict(CONFIG))


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, m, item[m]) for path, item in spec["paths"].items() for m in METHODS if m in item]


def _sample(path: str, operation: dict[str, Any]) -> str:
    """A concrete URL for a templated path: each variable's example, else ``1``."""
    examples = {p["name"]: p.get("example", 1) for p in operation.get("parameters", []) if p["in"] == "path"}
    return re.sub(r"{([^{}]+)}", lambda m: str(examples.get(m.group(1), 1)), path)


def test_the_document_is_valid_openapi_3_1(app: Flask) -> None:
    spec = service_spec(app)
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_route_is_documented(app: Flask) -> None:
    undocumented = [
        f"{m.upper()} {p}" for p, m, op in _operations(service_spec(app)) if op.get("x-undocumented")
    ]
    assert undocumented == [], "add @doc(...) to these views"


def test_every_documented_operation_is_served(app: Flask) -> None:
    adapter = app.url_map.bind("localhost")
    for path, method, operation in _operations(service_spec(app)):
        url = _sample(path, operation)
        try:
            adapter.match(url, method=method.upper())
        except (NotFound, MethodNotAllowed) as exc:
            pytest.fail(f"{method.upper()} {path} is documented but not served ({url}: {exc})")


def test_operation_ids_are_unique(app: Flask) -> None:
    ids = [op["operationId"] for _, _, op in _operations(service_spec(app))]
    assert len(ids) == len(set(ids))
