"""``WEBHOOK_ALLOWED_HOSTS`` in a real CEP engine: refused when a rule is created, and at delivery.

Real engine processes on a real Redis, real HTTP receivers on loopback. No stand-in at all: the
"listed name that resolves to a forbidden address" is ``localhost``, resolved by the system
(``/etc/hosts``) — there is no DNS server here, and none is needed for that case.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
import redis
import requests

from ascep.common import bus, channels
from support.polling import wait_for
from support.processes import HttpService
from support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.integration

StartCep = Callable[..., HttpService]
RULE = {
    "name": "BTC above 100",
    "pattern": "threshold",
    "cooldown": 0,
    "conditions": {"field": "price", "op": ">", "value": 100},
    "where": {"field": "symbol", "op": "==", "value": "BTCUSDT"},
}


@pytest.fixture
def trap() -> Iterator[WebhookReceiver]:
    """An "internal service" on 127.0.0.2, never listed: no delivery may reach it."""
    server = WebhookReceiver(address="127.0.0.2")
    yield server
    server.close()


def with_hook(url: str) -> dict[str, object]:
    return {**RULE, "action": [{"type": "webhook", "url": url, "timeout": 2, "retries": 1}]}


def fire(client: redis.Redis) -> None:
    now = int(time.time() * 1000)
    for px in (99, 120):
        bus.publish(
            client, channels.PRICE_UPDATES, {"symbol": "BTCUSDT", "price": px, "source": "t", "ts": now}
        )


def refused_metric(cep: HttpService) -> float:
    text = requests.get(f"{cep.url}/metrics", timeout=5).text
    match = re.search(r"^cep_webhooks_refused_total ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match[1]) if match else -1.0


def test_internal_targets_are_refused_when_a_rule_is_created(
    start_cep: StartCep, trap: WebhookReceiver
) -> None:
    cep = start_cep()  # WEBHOOK_ALLOWED_HOSTS unset: public addresses only
    cases = {
        trap.url: "loopback",
        f"http://[::ffff:127.0.0.2]:{trap.port}/": "loopback",
        f"http://[::1]:{trap.port}/": "loopback",
        "http://169.254.169.254/latest/meta-data/": "metadata",
        "http://[fd00:ec2::254]/": "metadata",
        "http://10.0.0.7:8080/": "private",
        "http://192.168.1.1/": "private",
        "http://[fe80::1]/": "link-local",
        "http://[fd12::1]/": "unique-local",
        "http://224.0.0.1/": "multicast",
        "http://0.0.0.0:5004/": "unspecified",
        "http://2130706433/": "numeric",
        "http://0177.0.0.1/": "numeric",
        f"http://localhost:{trap.port}/": "names this machine",
        "http://metadata.google.internal/computeMetadata/v1/": "metadata service",
    }
    for url, reason in cases.items():
        answer = requests.post(f"{cep.url}/rules", json=with_hook(url), timeout=5)
        assert answer.status_code == 422, (url, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"]["path"] == "$.action[0].url", url
        assert reason in error["message"], (url, error["message"])
        assert "WEBHOOK_ALLOWED_HOSTS" in error["message"] or reason == "numeric", error["message"]
    validate = requests.post(f"{cep.url}/rules/validate", json=with_hook(trap.url), timeout=5)
    assert validate.status_code == 422
    created = requests.post(f"{cep.url}/rules", json=with_hook("https://hooks.example.com/x"), timeout=5)
    assert created.status_code == 201, "a public name is fine (its addresses are checked at delivery)"
    rule_id = created.json()["rule"]["rule_id"]
    patched = requests.patch(f"{cep.url}/rules/{rule_id}", json=with_hook(trap.url), timeout=5)
    assert patched.status_code == 422
    assert patched.json()["error"]["details"]["path"] == "$.action[0].url"
    assert requests.get(f"{cep.url}/rules", timeout=5).json()["count"] == 1
    assert trap.attempts == 0


def test_a_listed_receiver_gets_alerts_and_a_rule_stored_before_the_list_changed_is_refused(
    start_cep: StartCep, redis_client: redis.Redis, webhook_receiver: WebhookReceiver, trap: WebhookReceiver
) -> None:
    listing = start_cep("cep-listing", WEBHOOK_ALLOWED_HOSTS="127.0.0.1")
    rule_id = requests.post(f"{listing.url}/rules", json=with_hook(webhook_receiver.url), timeout=5).json()[
        "rule"
    ]["rule_id"]
    unlisted = requests.post(f"{listing.url}/rules", json=with_hook(trap.url), timeout=5)
    assert unlisted.status_code == 422, "127.0.0.2 is loopback too, but not the listed address"
    fire(redis_client)
    wait_for(lambda: webhook_receiver.bodies, timeout=10, message="alert delivered to the listed receiver")
    assert webhook_receiver.bodies[0]["rule_id"] == rule_id
    listing.stop()

    strict = start_cep("cep-default")  # the same stored rule, loaded by an engine with the default list
    fire(redis_client)
    wait_for(lambda: refused_metric(strict) == 1, timeout=10, message="delivery refused and counted")
    status = requests.get(f"{strict.url}/status", timeout=5).json()["actions"]["webhooks"]
    assert status["refused"] == 1
    assert status["failed"] == 0
    assert status["allowed_hosts"] == {"public": True, "names": [], "networks": []}
    assert len(webhook_receiver.bodies) == 1, "nothing more reached the receiver"
    assert f"webhook of rule {rule_id} not sent: 127.0.0.1 is a loopback address" in strict.log_text()


def test_a_listed_name_whose_address_is_forbidden_is_refused_at_connect_time(
    start_cep: StartCep, redis_client: redis.Redis, webhook_receiver: WebhookReceiver
) -> None:
    """``localhost`` is listed by name; it resolves (``/etc/hosts``) to 127.0.0.1, which is not."""
    cep = start_cep(WEBHOOK_ALLOWED_HOSTS="localhost")
    created = requests.post(
        f"{cep.url}/rules", json=with_hook(webhook_receiver.url_for("localhost")), timeout=5
    )
    assert created.status_code == 201, "the name is allowed when the rule is created"
    rule_id = created.json()["rule"]["rule_id"]
    fire(redis_client)
    wait_for(lambda: refused_metric(cep) == 1, timeout=10, message="refused once resolved")
    assert webhook_receiver.attempts == 0
    assert f"webhook of rule {rule_id} not sent: localhost resolves to 127.0.0.1, a loopback address" in (
        cep.log_text()
    )


def test_a_malformed_list_stops_the_start(start_service: Callable[..., HttpService], redis_url: str) -> None:
    cep = start_service(
        "cep", "ascep.cep", {"REDIS_URL": redis_url, "WEBHOOK_ALLOWED_HOSTS": "*"}, wait_path=None
    )
    wait_for(lambda: cep.process is not None and cep.process.poll() is not None, timeout=20, message="exited")
    assert cep.process is not None
    assert cep.process.returncode != 0
    assert "WEBHOOK_ALLOWED_HOSTS" in cep.log_text()
