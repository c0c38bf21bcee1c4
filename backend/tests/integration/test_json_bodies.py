"""Every JSON endpoint of every real service refuses a deeply nested body with a 400 envelope.

One process per service (CEP engine, arbitrage detector, tasks API) on the session's Redis; the
same ``MAX_JSON_DEPTH`` answer everywhere, never a 500 and never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from support.processes import HttpService
from support.redis_server import RedisServer

pytestmark = pytest.mark.integration

RULE = {"name": "r", "pattern": "threshold", "conditions": {"field": "price", "op": ">", "value": 1}}

#: (service, method, path): every endpoint that reads a JSON body.
ENDPOINTS = [
    ("cep", "POST", "/rules"),
    ("cep", "PUT", "/rules/{rule_id}"),
    ("cep", "PATCH", "/rules/{rule_id}"),
    ("cep", "POST", "/rules/validate"),
    ("cep", "POST", "/rules/test"),
    ("cep", "POST", "/rules/{rule_id}/test"),
    ("arbitrage", "PUT", "/config"),
    ("arbitrage", "POST", "/config"),
    ("tasks", "POST", "/tasks"),
]


@pytest.fixture(scope="module")
def services(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, HttpService | int]]:
    """The three services with JSON endpoints, started once for the module, and a stored rule."""
    if redis_server.process is None:
        redis_server.start()
    log_dir = tmp_path_factory.mktemp("json-bodies")
    env = {"REDIS_URL": redis_server.url, "LOG_LEVEL": "INFO"}
    started = {
        name: HttpService(name, f"ascep.{module}", env, log_dir).start()
        for name, module in (("cep", "cep"), ("arbitrage", "arbitrage"), ("tasks", "tasks"))
    }
    try:
        for service in started.values():
            service.wait_healthy(timeout=30)
        created = requests.post(f"{started['cep'].url}/rules", json=RULE, timeout=5)
        assert created.status_code == 201, created.text
        yield {**started, "rule_id": created.json()["rule"]["rule_id"]}
    finally:
        for service in started.values():
            service.stop()


@pytest.mark.parametrize(("service", "method", "path"), ENDPOINTS, ids=lambda v: str(v))
@pytest.mark.parametrize("levels", [1_000, 100_000])
def test_a_deeply_nested_body_is_a_400_envelope(
    services: dict[str, HttpService | int], service: str, method: str, path: str, levels: int
) -> None:
    target = services[service]
    assert isinstance(target, HttpService)
    url = target.url + path.format(rule_id=services["rule_id"])
    body = '{"rule": ' + "[" * levels + "]" * levels + ', "events": []}'
    response = requests.request(
        method, url, data=body, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == 400, response.text
    envelope = response.json()
    assert envelope["error"]["code"] == "BAD_REQUEST"
    assert envelope["error"]["details"]["max_depth"] == 32
    assert envelope["request_id"] == response.headers["X-Request-ID"]
    assert "Traceback" not in response.text
    assert target.alive()
