"""The HTTP API of a real ``python -m ascep.cep`` process on real Redis."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from support.processes import HttpService

pytestmark = pytest.mark.integration

SPIKE = {"name": "BTC spike", "pattern": "price_spike", "conditions": {"percent": 2, "window": "60s"},
         "where": {"field": "symbol", "op": "==", "value": "BTCUSDT"}}  # fmt: skip


@pytest.fixture
def cep(start_cep: Callable[..., HttpService]) -> HttpService:
    return start_cep()


def test_rule_crud(cep: HttpService) -> None:
    created = requests.post(f"{cep.url}/rules", json=SPIKE, timeout=5)
    assert created.status_code == 201
    rule = created.json()["rule"]
    rid = rule["rule_id"]
    assert created.headers["Location"] == f"/rules/{rid}"
    assert rule["partition_by"] == ["symbol"]
    assert rule["enabled"] is True
    assert rule["error"] is None
    assert requests.get(f"{cep.url}/rules/{rid}", timeout=5).json()["rule"] == rule
    assert [r["rule_id"] for r in requests.get(f"{cep.url}/rules", timeout=5).json()["rules"]] == [rid]

    patched = requests.patch(f"{cep.url}/rules/{rid}", json={"enabled": False, "severity": "high"}, timeout=5)
    assert patched.status_code == 200
    assert patched.json()["rule"]["enabled"] is False
    assert patched.json()["rule"]["severity"] == "high"
    assert patched.json()["rule"]["version"] > rule["version"]
    assert patched.json()["rule"]["created_at"] == rule["created_at"]

    replaced = requests.put(f"{cep.url}/rules/{rid}", json={**SPIKE, "name": "renamed"}, timeout=5)
    assert replaced.json()["rule"]["name"] == "renamed"
    assert replaced.json()["rule"]["severity"] == "medium"  # PUT replaces everything

    deleted = requests.delete(f"{cep.url}/rules/{rid}", timeout=5)
    assert deleted.status_code == 200
    assert deleted.json()["rule"]["rule_id"] == rid
    missing = requests.get(f"{cep.url}/rules/{rid}", timeout=5)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    assert requests.get(f"{cep.url}/rules/abc", timeout=5).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "path"),
    [
        ({**SPIKE, "conditions": {"percent": "two", "window": "60s"}}, 422, "$.conditions.percent"),
        ({**SPIKE, "where": {"field": "symbol", "op": "like", "value": "BTC"}}, 422, "$.where.op"),
        ({"pattern": "threshold"}, 422, "$.name"),
        (["not", "a", "rule"], 422, "$"),
    ],
)
def test_invalid_rules_are_rejected_with_the_json_path(
    cep: HttpService, body: object, status: int, path: str
) -> None:
    for url in (f"{cep.url}/rules", f"{cep.url}/rules/validate"):
        response = requests.post(url, json=body, timeout=5)
        assert response.status_code == status
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert path in [e["path"] for e in error["details"]["errors"]]
        assert response.json()["request_id"]
    assert requests.get(f"{cep.url}/rules", timeout=5).json()["rules"] == []


def test_non_json_body_is_a_400(cep: HttpService) -> None:
    response = requests.post(f"{cep.url}/rules", data="nope", timeout=5)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"


def test_validate_schema_and_original_shape(cep: HttpService) -> None:
    original = {"name": "legacy", "pattern": "price_spike", "action": "alert", "enabled": True,
                "conditions": {"symbol": "ETHUSDT", "threshold": 3, "timeframe": 120}}  # fmt: skip
    valid = requests.post(f"{cep.url}/rules/validate", json=original, timeout=5).json()
    assert valid["valid"] is True
    assert valid["rule"]["conditions"] == {"percent": 3, "window": 120}
    schema = requests.get(f"{cep.url}/rules/schema", timeout=5).json()
    assert schema["title"] == "ASCEP CEP rule"
    assert "filter" in schema["$defs"]


def test_rule_test_endpoints_are_pure(cep: HttpService, redis_client) -> None:
    events = [{"symbol": "BTCUSDT", "price": 100, "ts": 0}, {"symbol": "BTCUSDT", "price": 103, "ts": 1000}]
    result = requests.post(f"{cep.url}/rules/test", json={"rule": SPIKE, "events": events}, timeout=5).json()
    assert [m["ts"] for m in result["matches"]] == [1000]
    assert result["matches"][0]["matched_events"] == events
    again = requests.post(f"{cep.url}/rules/test", json={"rule": SPIKE, "events": events}, timeout=5).json()
    assert again == result

    bad = requests.post(
        f"{cep.url}/rules/test", json={"rule": {**SPIKE, "cooldown": "x"}, "events": []}, timeout=5
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["path"] == "$.rule.cooldown"
    no_events = requests.post(f"{cep.url}/rules/test", json={"rule": SPIKE}, timeout=5)
    assert no_events.status_code == 400

    rid = requests.post(f"{cep.url}/rules", json=SPIKE, timeout=5).json()["rule"]["rule_id"]
    stored = requests.post(f"{cep.url}/rules/{rid}/test", json={"events": events}, timeout=5).json()
    assert stored["matches"][0]["rule_id"] == rid
    assert requests.get(f"{cep.url}/alerts", timeout=5).json()["alerts"] == []  # nothing emitted
    assert redis_client.llen("ascep:cep:alerts") == 0


def test_ops_endpoints(cep: HttpService) -> None:
    health = requests.get(f"{cep.url}/health", timeout=5).json()
    assert health["service"] == "cep_engine"
    assert health["checks"]["subscription"]["status"] == "healthy"
    assert requests.get(f"{cep.url}/ready", timeout=5).status_code == 200
    status = requests.get(f"{cep.url}/status", timeout=5).json()
    assert status["subscription"]["state"] == "connected"
    assert "CEP_MAX_DISORDER_MS" in status["config"]
    metrics = requests.get(f"{cep.url}/metrics", timeout=5).text
    assert "cep_events_total" in metrics
    assert "cep_subscription_up 1.0" in metrics


def test_alerts_query_validation(cep: HttpService) -> None:
    assert requests.get(f"{cep.url}/alerts?limit=0", timeout=5).status_code == 400
    assert requests.get(f"{cep.url}/alerts?rule_id=x", timeout=5).status_code == 400
    superscript = requests.get(f"{cep.url}/alerts", params={"limit": "²"}, timeout=5)  # isdigit(), not int()
    assert (superscript.status_code, superscript.json()["error"]["details"]) == (
        400,
        {"parameter": "limit", "value": "²"},
    )
    body = requests.get(f"{cep.url}/alerts?limit=5&rule_id=3", timeout=5).json()
    assert body == {"alerts": [], "count": 0, "limit": 5, "rule_id": 3}
