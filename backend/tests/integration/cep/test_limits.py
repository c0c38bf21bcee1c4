"""Limits a client of the CEP engine can hit: how many rules, how large, which channels, which regexes.

Real engine processes on real Redis. The rule cap holds across processes under concurrent creates;
a catastrophic regular expression cannot stall the engine (RE2 runs in linear time).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
import requests

from ascep.common import bus, channels
from support.polling import wait_for
from support.processes import HttpService

pytestmark = pytest.mark.integration

StartCep = Callable[..., HttpService]
ABOVE = {"name": "BTC above 100", "pattern": "threshold", "cooldown": 0,
         "conditions": {"field": "price", "op": ">", "value": 100},
         "where": {"field": "symbol", "op": "==", "value": "BTCUSDT"}}  # fmt: skip


def create(service: HttpService, name: str) -> requests.Response:
    return requests.post(f"{service.url}/rules", json={**ABOVE, "name": name}, timeout=15)


def burst(targets: list[HttpService], count: int) -> list[requests.Response]:
    """``count`` creations at once, spread over ``targets``."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda i: create(targets[i % len(targets)], f"burst {i}"), range(count)))


def test_the_rule_cap_holds_across_processes_under_concurrent_creates(
    start_cep: StartCep, redis_client: redis.Redis
) -> None:
    a, b = start_cep("cep-a", CEP_MAX_RULES="10"), start_cep("cep-b", CEP_MAX_RULES="10")
    for i in range(9):
        assert create(a, f"rule {i}").status_code == 201

    answers = burst([a, b], 30)  # 30 creations race for the last place
    assert sorted(r.status_code for r in answers) == [201] + [409] * 29
    refused = next(r for r in answers if r.status_code == 409).json()
    assert refused["error"]["code"] == "CONFLICT"
    assert refused["error"]["details"] == {"limit": 10, "setting": "CEP_MAX_RULES"}
    assert refused["request_id"]
    assert redis_client.hlen(channels.CEP_RULES_KEY) == 10
    assert requests.get(f"{b.url}/rules", timeout=5).json()["count"] == 10

    rules = requests.get(f"{a.url}/rules", timeout=5).json()["rules"]
    for rule in rules[:3]:
        assert requests.delete(f"{b.url}/rules/{rule['rule_id']}", timeout=5).status_code == 200
    answers = burst([a, b], 30)  # three places free: exactly three creations win
    assert sorted(r.status_code for r in answers) == [201] * 3 + [409] * 27
    assert redis_client.hlen(channels.CEP_RULES_KEY) == 10
    assert requests.post(f"{a.url}/rules/validate", json=ABOVE, timeout=5).status_code == 200  # not capped


def test_a_rule_over_the_size_limit_is_a_422(start_cep: StartCep) -> None:
    cep = start_cep(CEP_MAX_RULE_BYTES="4096")
    symbols = [f"SYM{i:05d}USDT" for i in range(400)]  # ~6 KB of JSON
    big = {**ABOVE, "where": {"field": "symbol", "op": "in", "value": symbols}}
    for url, body, path in (
        (f"{cep.url}/rules", big, "$"),
        (f"{cep.url}/rules/validate", big, "$"),
        (f"{cep.url}/rules/test", {"rule": big, "events": []}, "$.rule"),
    ):
        response = requests.post(url, json=body, timeout=5)
        assert response.status_code == 422, response.text
        details = response.json()["error"]["details"]
        assert details["path"] == path
        assert details["limit"] == 4096
    small = {**ABOVE, "where": {"field": "symbol", "op": "in", "value": symbols[:100]}}
    assert requests.post(f"{cep.url}/rules", json=small, timeout=5).status_code == 201


@pytest.mark.parametrize(
    ("action", "path", "message"),
    [
        ({"type": "publish", "channel": channels.SERVICE_STATUS}, "$.action[0].channel", "'cep:'"),
        ({"type": "publish", "channel": channels.TASK_UPDATES}, "$.action[0].channel", "'cep:'"),
        ({"type": "publish", "channel": channels.PRICE_UPDATES}, "$.action[0].channel", "'cep:'"),
    ],
)
def test_publish_is_limited_to_the_rules_namespace(
    start_cep: StartCep, action: dict[str, Any], path: str, message: str
) -> None:
    cep = start_cep()
    for url in (f"{cep.url}/rules", f"{cep.url}/rules/validate"):
        response = requests.post(url, json={**ABOVE, "action": [action]}, timeout=5)
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["details"]["path"] == path
        assert message in error["message"]
    ok = requests.post(f"{cep.url}/rules", json={**ABOVE, "action": {"type": "publish", "channel": "cep:x"}},
                       timeout=5)  # fmt: skip
    assert ok.status_code == 201


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [("(a)\\1", "RE2 syntax"), ("^(?!x)", "RE2 syntax"), ("a" * 513, "512 characters")],
)
def test_patterns_re2_refuses_are_a_422_naming_the_field(
    start_cep: StartCep, pattern: str, reason: str
) -> None:
    cep = start_cep()
    rule = {**ABOVE, "where": {"all": [ABOVE["where"], {"field": "note", "op": "matches", "value": pattern}]}}
    response = requests.post(f"{cep.url}/rules", json=rule, timeout=5)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["path"] == "$.where.all[1].value"
    assert reason in response.json()["error"]["message"]


def test_a_catastrophic_regex_does_not_stall_the_engine(
    start_cep: StartCep, redis_client: redis.Redis
) -> None:
    """With ``re``, each ``a``x28 + ``!`` note blocked the engine ~20 s; RE2 answers in microseconds."""
    cep = start_cep()
    evil = {
        "name": "evil",
        "pattern": "threshold",
        "conditions": {"field": "price", "op": ">", "value": 0, "mode": "level"},
        "where": {"field": "note", "op": "matches", "value": "^(a+)+$"},
    }
    evil_id = requests.post(f"{cep.url}/rules", json=evil, timeout=5).json()["rule"]["rule_id"]
    above_id = requests.post(f"{cep.url}/rules", json=ABOVE, timeout=5).json()["rule"]["rule_id"]
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channels.CEP_ALERTS)
    wait_for(lambda: pubsub.get_message(timeout=0.05) is None and pubsub.subscribed, message="subscribed")

    now = int(time.time() * 1000)
    for i in range(3):
        event = {"symbol": "ETHUSDT", "price": 1, "note": "a" * 28 + "!", "ts": now + i}
        bus.publish(redis_client, channels.PRICE_UPDATES, event)
    bus.publish(redis_client, channels.PRICE_UPDATES, {"symbol": "BTCUSDT", "price": 99, "ts": now + 3})
    bus.publish(redis_client, channels.PRICE_UPDATES, {"symbol": "BTCUSDT", "price": 101, "ts": now + 4})

    seen: list[dict[str, Any]] = []

    def alert_of(rule_id: int) -> bool:
        while (message := pubsub.get_message(timeout=0.05)) is not None:
            seen.append(json.loads(message["data"]))
        return any(alert["rule_id"] == rule_id for alert in seen)

    wait_for(lambda: alert_of(above_id), timeout=5, message="the BTC alert, behind three evil notes")
    bus.publish(
        redis_client, channels.PRICE_UPDATES, {"symbol": "X", "price": 1, "note": "aaaa", "ts": now + 5}
    )
    wait_for(lambda: alert_of(evil_id), timeout=5, message="the regex rule still matches what it should")
    stats = requests.get(f"{cep.url}/stats", timeout=5).json()
    assert {r["rule_id"]: r["error"] for r in stats["rules"]} == {evil_id: None, above_id: None}
    pubsub.close()
