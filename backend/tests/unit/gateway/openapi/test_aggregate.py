"""Merging the gateway's document with the services' (pure: documents in, one document out)."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

import pytest
from openapi_spec_validator import validate

from ascep.common.openapi.views import service_spec
from ascep.gateway.openapi.aggregate import ServiceDoc, aggregate
from ascep.service_registry import service_registry

CONFIG = {"REDIS_URL": "redis://127.0.0.1:9/0", "ASYNC_MODE": "threading", "TESTING": True}
PACKAGES = {"gateway": "ascep.gateway", "health": "ascep.health", "price_feed": "ascep.price_feed",
            "arbitrage": "ascep.arbitrage", "cep_engine": "ascep.cep", "tasks": "ascep.tasks"}  # fmt: skip


@cache
def _spec(name: str) -> dict[str, Any]:
    return service_spec(importlib.import_module(PACKAGES[name]).create_app(dict(CONFIG)))


def _doc(name: str, spec: dict[str, Any] | None, state: str = "fresh", **extra: Any) -> ServiceDoc:
    definition = service_registry.get(name)
    assert definition is not None
    return ServiceDoc(name, definition.endpoints, definition.description, spec, state, **extra)  # type: ignore[arg-type]


def _merge(*docs: ServiceDoc, auth_required: bool = False) -> dict[str, Any]:
    return aggregate(
        _spec("gateway"), docs, auth_required=auth_required, title="t", version="1", description="d"
    )


def _tiny(schema: dict[str, Any]) -> dict[str, Any]:
    """A minimal service document with one routed path using one component named Thing."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "x", "version": "1"},
        "paths": {
            "/prices": {"get": {"operationId": "get_prices", "responses": {"200": {
                "description": "ok",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}}},
            "/internal": {"get": {"operationId": "internal", "responses": {"200": {"description": "ok"}}}},
        },
        "components": {"schemas": {"Thing": schema}},
    }  # fmt: skip


def test_the_real_documents_merge_into_valid_openapi() -> None:
    merged = _merge(*(_doc(n, _spec(n)) for n in PACKAGES if n != "gateway"))
    validate(merged)
    assert "/api/rules/{raw_id}/test" in merged["paths"]
    assert "/api/arbitrage/signals/{signal_id}" in merged["paths"]
    assert "/api/signals" in merged["paths"]
    assert (
        "/api/history" not in merged["paths"]
    )  # the health service serves /history, the gateway does not route it


def test_only_routed_paths_are_kept_and_prefixed() -> None:
    merged = _merge(_doc("price_feed", _tiny({"type": "string"})))
    assert "/api/prices" in merged["paths"]
    assert not any(p.endswith("/internal") for p in merged["paths"])
    op = merged["paths"]["/api/prices"]["get"]
    assert op["operationId"] == "price_feed.get_prices"
    assert op["tags"] == ["price_feed"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == (
        "#/components/schemas/price_feed.Thing"
    )


def test_same_component_names_of_two_services_never_collide() -> None:
    one = _tiny({"type": "string"})
    other = _tiny({"type": "integer"})
    other["paths"] = {"/rules": other["paths"].pop("/prices")}
    merged = _merge(_doc("price_feed", one), _doc("cep_engine", other))
    schemas = merged["components"]["schemas"]
    assert schemas["price_feed.Thing"] == {"type": "string"}
    assert schemas["cep_engine.Thing"] == {"type": "integer"}
    validate(merged)


def test_a_service_cannot_take_over_a_gateway_path() -> None:
    hostile = _tiny({"type": "string"})
    hostile["paths"]["/health"] = hostile["paths"].pop("/prices")
    merged = _merge(_doc("price_feed", hostile))
    assert merged["paths"]["/api/health"]["get"]["operationId"] == "gateway.get_api_health"


@pytest.mark.parametrize(("auth_required", "first"), [(False, {}), (True, {"bearerAuth": ["read"]})])
def test_security_follows_auth_mode(auth_required: bool, first: dict[str, Any]) -> None:
    merged = _merge(_doc("price_feed", _spec("price_feed")), auth_required=auth_required)
    assert merged["paths"]["/api/prices"]["get"]["security"][0] == first
    assert merged["paths"]["/api/gateway/splits"]["get"]["security"][-1] == {"apiKey": ["admin"]}
    assert merged["paths"]["/health"]["get"]["security"] == []  # liveness: public


def test_gateway_answers_are_added_to_proxied_operations_only_where_missing() -> None:
    merged = _merge(_doc("cep_engine", _spec("cep_engine")))
    responses = merged["paths"]["/api/rules/{raw_id}"]["get"]["responses"]
    assert {"401", "403", "429", "502", "504"} <= set(responses)
    assert "No rule with this id" in responses["404"]["description"]  # the service's own words kept
    assert set(merged["paths"]["/api/health"]["get"]["responses"]) >= {"401", "403", "429"}


def test_stale_and_unavailable_services_are_said() -> None:
    merged = _merge(
        _doc(
            "price_feed",
            _spec("price_feed"),
            "stale",
            fetched_at="2026-12-01T00:00:00Z",
            error="ConnectTimeout",
        ),
        _doc("tasks", None, "unavailable", error="ConnectionError"),
    )
    services = merged["info"]["x-ascep-services"]
    assert services["price_feed"] == {
        "state": "stale",
        "fetched_at": "2026-12-01T00:00:00Z",
        "error": "ConnectTimeout",
    }
    assert services["tasks"]["state"] == "unavailable"
    assert "/api/prices" in merged["paths"]  # the last good copy
    assert not any(p.startswith("/api/tasks") for p in merged["paths"])
    assert "price_feed" in merged["info"]["description"]
    assert "tasks" in merged["info"]["description"]
    validate(merged)


@pytest.mark.parametrize(
    "hostile",
    [
        [],
        {"paths": []},
        {"paths": {"/prices": []}},
        {"paths": {}, "components": []},
        {"paths": {}, "components": {"schemas": 1}},
    ],
)
def test_a_malformed_service_document_is_refused_before_the_merge(hostile: Any) -> None:
    from ascep.gateway.openapi.catalog import SpecFetchError, _check_shape

    with pytest.raises(SpecFetchError):
        _check_shape(hostile)
