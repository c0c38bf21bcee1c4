"""The platform's OpenAPI document, served by a real gateway in front of every real service.

It validates as OpenAPI 3.1, holds every service's routed paths under their gateway prefix with
namespaced ids, says the answers and credentials the gateway adds, and the YAML is the same
document. The fuzzing of every operation is ``test_api_fuzz.py``; a service going away is
``test_openapi_refresh.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from openapi_spec_validator import validate

from ascep.service_registry import service_registry
from support.full_stack import Platform, running_platform
from support.polling import wait_for
from support.redis_server import RedisServer

pytestmark = pytest.mark.integration
METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture(scope="module")
def platform(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with redis_server.client() as client:
        client.flushall()
    overrides = {"OPENAPI_REFRESH_SECONDS": "1"}
    with running_platform(redis_server.url, tmp_path_factory.mktemp("platform"), overrides) as started:
        yield started


def _fresh_document(platform: Platform) -> dict[str, Any]:
    """The document once every service's part is fresh (the first refresh runs at start-up)."""

    def probe() -> dict[str, Any] | None:
        doc = requests.get(platform.gateway.url + "/api/openapi.json", timeout=5).json()
        states = {name: s["state"] for name, s in doc["info"]["x-ascep-services"].items()}
        return doc if set(states.values()) == {"fresh"} else None

    return wait_for(probe, timeout=20, message="every service's document fetched")


def test_the_document_is_valid_openapi_3_1_with_every_service(platform: Platform) -> None:
    doc = _fresh_document(platform)
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    tags = {t["name"] for t in doc["tags"]}
    assert tags == {"gateway", *(d.name for d in service_registry)}
    for path in ("/api/prices", "/api/prices/{symbol}/history", "/api/rules/{raw_id}", "/api/signals",
                 "/api/arbitrage/config", "/api/tasks", "/api/monitor/services/{name}",
                 "/api/health", "/api/gateway/splits/{service}", "/api/openapi.json"):  # fmt: skip
        assert path in doc["paths"], path
    # A service's own /health is not routed by the gateway, so it is not in the document.
    assert not any(p.startswith(("/monitor", "/rules", "/prices")) for p in doc["paths"])


def test_ids_and_components_are_namespaced_without_collisions(platform: Platform) -> None:
    doc = _fresh_document(platform)
    operations = [(p, m, item[m]) for p, item in doc["paths"].items() for m in METHODS if m in item]
    ids = [op["operationId"] for _, _, op in operations]
    assert len(ids) == len(set(ids))
    assert doc["paths"]["/api/prices"]["get"]["operationId"] == "price_feed.get_prices"
    assert doc["paths"]["/api/health"]["get"]["operationId"] == "gateway.get_api_health"
    schemas = doc["components"]["schemas"]
    assert "cep_engine.CepRule" in schemas
    assert "cep_engine.CepRule_filter" in schemas
    assert "ErrorEnvelope" in schemas
    assert "price_feed.ErrorEnvelope" not in schemas  # shared, not copied
    for path, _method, op in operations:
        tag = op["tags"][0]
        assert tag == ("gateway" if not _proxied(path) else service_registry.match(path[4:]).service.name)


def _proxied(path: str) -> bool:
    return path.startswith("/api/") and service_registry.match(path[4:]) is not None


def test_gateway_answers_and_security_are_on_every_operation(platform: Platform) -> None:
    doc = _fresh_document(platform)
    assert set(doc["components"]["securitySchemes"]) == {"bearerAuth", "apiKey"}
    assert doc["components"]["securitySchemes"]["apiKey"]["name"] == "X-API-Key"
    prices = doc["paths"]["/api/prices"]["get"]
    for status in ("400", "401", "403", "404", "413", "422", "429", "502", "503", "504"):
        assert status in prices["responses"], status
    # AUTH_MODE=off: credentials are optional ({}), and the scope follows the method and the path.
    assert prices["security"] == [{}, {"bearerAuth": ["read"]}, {"apiKey": ["read"]}]
    assert doc["paths"]["/api/rules"]["post"]["security"][1] == {"bearerAuth": ["write"]}
    assert doc["paths"]["/api/gateway/splits/{service}"]["put"]["security"][1] == {"bearerAuth": ["admin"]}
    assert doc["paths"]["/api/openapi.json"]["get"]["security"] == []
    envelope = doc["components"]["schemas"]["ErrorEnvelope"]
    assert envelope["required"] == ["error", "request_id"]


def test_yaml_is_the_same_document(platform: Platform) -> None:
    _fresh_document(platform)
    as_json = requests.get(platform.gateway.url + "/api/openapi.json", timeout=5)
    as_yaml = requests.get(platform.gateway.url + "/api/openapi.yaml", timeout=5)
    assert as_yaml.headers["Content-Type"].startswith("application/yaml")
    assert yaml.safe_load(as_yaml.text) == as_json.json()
    assert "&id" not in as_yaml.text  # no anchors: plain YAML every tool reads


def test_each_service_serves_its_own_document(platform: Platform) -> None:
    for name, service in platform.services.items():
        doc = requests.get(service.url + "/openapi.json", timeout=5).json()
        validate(doc)
        assert doc["info"]["title"] == f"ASCEP {name} API"


def test_asyncapi_lists_every_socketio_event(platform: Platform) -> None:
    doc = requests.get(platform.gateway.url + "/api/asyncapi.json", timeout=5).json()
    assert doc["asyncapi"] == "3.0.0"
    messages = doc["channels"]["socketio"]["messages"]
    assert {"price_update", "arbitrage_signal", "cep_alert", "subscribe_prices", "error"} <= set(messages)


def test_docs_pages_are_served_with_a_strict_policy(platform: Platform, tmp_path: Path) -> None:
    for page in ("/docs", "/redoc"):
        response = requests.get(platform.gateway.url + page, headers={"Accept": "text/html"}, timeout=5)
        if response.status_code == 503:  # no dashboard build in this checkout: said in the envelope
            assert response.json()["error"]["details"]["directory"] == "api-docs"
            continue
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert "<script>" not in response.text  # no inline script: every script is a file of ours
        assert "http" not in response.text.replace("http-equiv", "")  # nothing from elsewhere
