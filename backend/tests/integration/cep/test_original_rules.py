"""Original-shape rules on the live engine: trigger counts across two engine processes, signals."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import requests

from ascep.common import channels
from integration.cep.test_live import claimed_elsewhere, now_ms, price
from support.polling import wait_for
from support.processes import HttpService

pytestmark = pytest.mark.integration

StartCep = Callable[..., HttpService]
SPIKE = {"name": "BTC jump", "pattern": "price_spike", "action": "create_signal",
         "conditions": {"price_change_threshold": 10.0, "symbol": "BTC/USDT"}, "enabled": True}  # fmt: skip


@pytest.fixture
def signal_listener(redis_url: str) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Everything published on ``cep_signals`` during the test, decoded."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channels.CEP_SIGNALS)
    seen: list[dict[str, Any]] = []

    def drain() -> list[dict[str, Any]]:
        while (message := pubsub.get_message(timeout=0.01)) is not None:
            seen.append(json.loads(message["data"]))
        return seen

    yield drain
    pubsub.close()
    client.close()


def listed(service: HttpService, rule_id: int) -> dict[str, Any]:
    rules = requests.get(f"{service.url}/rules", timeout=5).json()["rules"]
    return next(r for r in rules if r["rule_id"] == rule_id)


def test_two_engines_count_each_firing_once_and_publish_one_signal(
    start_cep: StartCep, redis_client: redis.Redis, signal_listener: Callable[[], list[dict[str, Any]]]
) -> None:
    a, b = start_cep("cep-a"), start_cep("cep-b")
    rule = requests.post(f"{a.url}/rules", json=SPIKE, timeout=5).json()["rule"]
    assert rule["where"] == {"field": "symbol", "op": "==", "value": "BTCUSDT"}
    wait_for(lambda: any(r["rule_id"] == rule["rule_id"] for r in requests.get(f"{b.url}/stats", timeout=5)
                         .json()["rules"]), timeout=5, message="B loaded the rule")  # fmt: skip
    base = now_ms()
    for i, px in enumerate((100.0, 120.0, 100.0, 100.5, 150.0)):  # jumps: +20 %, -16.7 %, +49 %
        price(redis_client, px, ts=base + i)
    signals = wait_for(
        lambda: (s := signal_listener()) and len(s) >= 3 and s, timeout=10, message="3 signals"
    )
    wait_for(lambda: listed(a, rule["rule_id"])["trigger_count"] == 3, timeout=5, message="three firings")
    wait_for(lambda: claimed_elsewhere(a) + claimed_elsewhere(b) == 3, timeout=5, message="losers skipped")
    assert len(signal_listener()) == 3  # each engine matched each jump; one of them acted
    shown = listed(b, rule["rule_id"])
    assert shown["trigger_count"] == 3
    assert isinstance(shown["last_triggered"], str)
    assert [s["event_data"]["price"] for s in signals] == [120.0, 100.0, 150.0]
    first = signals[0]
    assert (first["type"], first["rule_id"], first["rule_name"], first["symbols"]) == (
        "cep_signal", rule["rule_id"], "BTC jump", ["BTCUSDT"],
    )  # fmt: skip
    assert first["values"]["change_percent"] == pytest.approx(20.0)

    # an update keeps the count; a delete forgets it
    toggled = requests.put(f"{b.url}/rules/{rule['rule_id']}", json={"enabled": False}, timeout=5).json()
    assert (toggled["rule"]["enabled"], toggled["rule"]["trigger_count"]) == (False, 3)
    price(redis_client, 500.0, ts=base + 10)
    assert listed(a, rule["rule_id"])["trigger_count"] == 3
    requests.delete(f"{a.url}/rules/{rule['rule_id']}", timeout=5)
    assert not redis_client.hexists(channels.CEP_RULE_TRIGGERS_KEY, f"{rule['rule_id']}:count")


def test_the_original_test_endpoint_takes_one_bare_event(start_cep: StartCep) -> None:
    cep = start_cep()
    custom = {"name": "BTC watch", "pattern": "btc_watch", "action": "log_event",
              "conditions": {"custom_condition": 'symbol == "BTCUSDT" and price > 100'}}  # fmt: skip
    rule = requests.post(f"{cep.url}/rules", json=custom, timeout=5).json()["rule"]
    for event, result in (
        ({"symbol": "BTCUSDT", "price": 150}, True),
        ({"symbol": "BTCUSDT", "price": 50}, False),
    ):
        answer = requests.post(f"{cep.url}/rules/{rule['rule_id']}/test", json=event, timeout=5).json()
        assert (answer["result"], answer["rule_id"], answer["rule_name"], answer["test_data"]) == (
            result, rule["rule_id"], "BTC watch", event,
        )  # fmt: skip
