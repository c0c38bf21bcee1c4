"""The live engine: prices on Redis -> rules -> cep_alert on Redis and through a real gateway."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import requests

from ascep.common import bus, channels
from support.polling import wait_for
from support.ports import free_port
from support.processes import HttpService
from support.redis_server import RedisServer
from support.sio import RecordingClient
from support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.integration

StartCep = Callable[..., HttpService]
ABOVE = {
    "name": "BTC above 100",
    "pattern": "threshold",
    "cooldown": 0,
    "conditions": {"field": "price", "op": ">", "value": 100},
    "where": {"field": "symbol", "op": "==", "value": "BTCUSDT"},
}


def now_ms() -> int:
    return int(time.time() * 1000)


def price(client: redis.Redis, px: float, symbol: str = "BTCUSDT", ts: int | None = None) -> None:
    bus.publish(
        client,
        channels.PRICE_UPDATES,
        {"symbol": symbol, "price": px, "source": "test", "ts": ts or now_ms()},
    )


def rule_stats(service: HttpService, rule_id: int) -> dict[str, Any]:
    rows = requests.get(f"{service.url}/stats", timeout=5).json()["rules"]
    return next((r for r in rows if r["rule_id"] == rule_id), {})


def claimed_elsewhere(service: HttpService) -> int:
    return requests.get(f"{service.url}/status", timeout=5).json()["actions"]["claimed_by_other_process"]


@pytest.fixture
def alert_listener(redis_url: str) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Everything published on ``cep_alerts`` during the test, decoded."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channels.CEP_ALERTS)
    seen: list[dict[str, Any]] = []

    def drain() -> list[dict[str, Any]]:
        while (message := pubsub.get_message(timeout=0.01)) is not None:
            seen.append(json.loads(message["data"]))
        return seen

    yield drain
    pubsub.close()
    client.close()


def test_rule_created_over_http_fires_on_prices_from_redis(
    start_cep: StartCep, redis_client: redis.Redis, alert_listener: Callable[[], list[dict[str, Any]]]
) -> None:
    cep = start_cep()
    rid = requests.post(f"{cep.url}/rules", json=ABOVE, timeout=5).json()["rule"]["rule_id"]
    price(redis_client, 99)
    price(redis_client, 99, symbol="ETHUSDT")
    price(redis_client, 101)
    [alert] = wait_for(alert_listener, timeout=5, message="cep_alert on Redis")
    assert alert["rule_id"] == rid
    assert alert["partition"] == {"symbol": "BTCUSDT"}
    assert alert["severity"] == "medium"
    assert alert["matched_events"][0]["price"] == 101
    assert alert["message"]
    stored = requests.get(f"{cep.url}/alerts?rule_id={rid}", timeout=5).json()["alerts"]
    assert [a["alert_id"] for a in stored] == [alert["alert_id"]]
    stats = rule_stats(cep, rid)
    assert stats["events_evaluated"] == 2  # the ETHUSDT tick never reached the rule
    assert stats["matches"] == 1
    assert stats["last_triggered"]
    engine = requests.get(f"{cep.url}/stats", timeout=5).json()["engine"]
    assert engine["events"] == 4  # 3 prices + its own alert on the alerts stream
    wait_for(
        lambda: requests.get(f"{cep.url}/stats", timeout=5).json()["engine"]["events_per_second"] > 0,
        timeout=5,
        message="events/s measured",
    )

    redis_client.publish(channels.PRICE_UPDATES, "{not json")
    bus.publish(redis_client, channels.PRICE_UPDATES, {"symbol": "BTCUSDT", "price": 1, "ts": "soon"})
    wait_for(
        lambda: requests.get(f"{cep.url}/stats", timeout=5).json()["engine"]["malformed_events"] == 2,
        timeout=5,
        message="malformed events counted",
    )
    assert requests.get(f"{cep.url}/health", timeout=5).status_code == 200


def test_cep_alert_reaches_a_socketio_client_through_the_gateway(
    start_cep: StartCep, start_service: Callable[..., HttpService], redis_url: str, redis_client: redis.Redis
) -> None:
    cep = start_cep()
    closed = f"http://127.0.0.1:{free_port()}"
    gateway = start_service(
        "gateway",
        "ascep.gateway",
        {
            "REDIS_URL": redis_url,
            "CEP_ENGINE_URL": cep.url,
            "PRICE_FEED_URL": closed,
            "HEALTH_URL": closed,
            "ARBITRAGE_URL": closed,
            "TASKS_URL": closed,
            "HEALTH_POLL_INTERVAL": "1",
            "HEALTH_CHECK_TIMEOUT": "1",
        },
    )
    created = requests.post(f"{gateway.url}/api/rules", json=ABOVE, timeout=5)
    assert created.status_code == 201  # through the gateway's /api/rules
    rid = created.json()["rule"]["rule_id"]
    client = RecordingClient(gateway.url)
    try:
        assert client.call("subscribe_alerts")["ok"] is True
        wait_for(
            lambda: (
                requests.get(f"{gateway.url}/status", timeout=5).json()["realtime"]["bridge"]["state"]
                == "connected"
            ),
            timeout=10,
            message="gateway bridge",
        )
        price(redis_client, 99)
        price(redis_client, 150)
        [alert] = client.wait_events("cep_alert", 1, timeout=10)
        assert alert["rule_id"] == rid
        assert alert["matched_events"][0]["price"] == 150
        listed = requests.get(f"{gateway.url}/api/alerts?rule_id={rid}", timeout=5)
        assert listed.status_code == 200
        assert listed.json()["count"] == 1
    finally:
        client.close()


def test_restart_keeps_rules_and_ids(start_cep: StartCep) -> None:
    first = start_cep("cep-1")
    ids = [
        requests.post(f"{first.url}/rules", json={**ABOVE, "name": f"r{i}"}, timeout=5).json()["rule"][
            "rule_id"
        ]
        for i in range(3)
    ]
    requests.delete(f"{first.url}/rules/{ids[-1]}", timeout=5)
    first.stop()
    second = start_cep("cep-2")
    assert [r["rule_id"] for r in requests.get(f"{second.url}/rules", timeout=5).json()["rules"]] == ids[:2]
    wait_for(lambda: rule_stats(second, ids[0]), timeout=5, message="rules loaded at start-up")
    new_id = requests.post(f"{second.url}/rules", json=ABOVE, timeout=5).json()["rule"]["rule_id"]
    assert new_id > max(ids)  # never reused, even the deleted one


def test_a_second_engine_sees_rule_changes_at_once(
    start_cep: StartCep, redis_client: redis.Redis, alert_listener: Callable[[], list[dict[str, Any]]]
) -> None:
    a, b = start_cep("cep-a"), start_cep("cep-b")
    rule = requests.post(f"{a.url}/rules", json=ABOVE, timeout=5).json()["rule"]
    wait_for(
        lambda: rule_stats(b, rule["rule_id"]).get("version") == rule["version"],
        timeout=2,
        message="rule created on A loaded by B",
    )
    patched = requests.patch(
        f"{a.url}/rules/{rule['rule_id']}",
        json={"conditions": {"field": "price", "op": ">", "value": 200}},
        timeout=5,
    ).json()["rule"]
    wait_for(
        lambda: rule_stats(b, rule["rule_id"]).get("version") == patched["version"],
        timeout=2,
        message="update on A applied by B",
    )
    price(redis_client, 150)  # would fire under the old threshold
    price(redis_client, 201)
    wait_for(lambda: rule_stats(b, rule["rule_id"]).get("matches") == 1, timeout=5, message="B matched")
    assert rule_stats(a, rule["rule_id"])["matches"] == 1
    [alert] = wait_for(alert_listener, timeout=5, message="one alert")
    assert alert["matched_events"][0]["price"] == 201
    wait_for(lambda: claimed_elsewhere(a) + claimed_elsewhere(b) == 1, timeout=5, message="loser skipped")
    assert len(alert_listener()) == 1  # both engines matched, exactly one emitted
    requests.delete(f"{b.url}/rules/{rule['rule_id']}", timeout=5)
    wait_for(lambda: not rule_stats(a, rule["rule_id"]), timeout=2, message="delete on B applied by A")


def test_webhook_and_publish_actions(
    start_cep: StartCep, redis_client: redis.Redis, webhook_receiver: WebhookReceiver
) -> None:
    cep = start_cep(WEBHOOK_ALLOWED_HOSTS="127.0.0.1")  # the receiver: loopback must be listed
    webhook_receiver.fail_first = 1  # first attempt gets a 503: the worker retries
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe("cep:my_alerts")
    actions = [
        {"type": "webhook", "url": webhook_receiver.url, "timeout": 2, "retries": 2},
        {"type": "publish", "channel": "cep:my_alerts"},
        {"type": "log", "level": "warning"},
    ]
    rid = requests.post(f"{cep.url}/rules", json={**ABOVE, "action": actions}, timeout=5).json()["rule"][
        "rule_id"
    ]
    price(redis_client, 99)
    price(redis_client, 120)
    wait_for(lambda: webhook_receiver.bodies, timeout=10, message="webhook delivered")
    assert webhook_receiver.bodies[0]["rule_id"] == rid
    assert webhook_receiver.attempts == 2
    message = wait_for(lambda: pubsub.get_message(timeout=0.05), timeout=5, message="published alert")
    assert json.loads(message["data"])["rule_id"] == rid
    assert requests.get(f"{cep.url}/alerts", timeout=5).json()["alerts"] == []  # no emit_alert action
    pubsub.close()


def test_health_is_unhealthy_while_the_subscription_is_dead(
    start_cep: StartCep, redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    cep = start_cep()
    redis_server.stop()
    health = wait_for(
        lambda: (r := requests.get(f"{cep.url}/health", timeout=5)).status_code == 503 and r.json(),
        timeout=10,
        message="unhealthy",
    )
    assert health["checks"]["subscription"]["status"] == "unhealthy"
    assert requests.get(f"{cep.url}/rules", timeout=5).status_code == 503
    redis_server.start()
    wait_for(
        lambda: requests.get(f"{cep.url}/health", timeout=5).status_code == 200, timeout=15, message="healthy"
    )
    # the test Redis is not persistent: it came back empty
    rid = requests.post(f"{cep.url}/rules", json=ABOVE, timeout=5).json()["rule"]["rule_id"]
    price(redis_client, 99)
    price(redis_client, 101)
    wait_for(lambda: rule_stats(cep, rid).get("matches") == 1, timeout=5, message="fires after recovery")


@pytest.mark.parametrize("mode", ["gevent", "threading"])
def test_other_async_modes(start_cep: StartCep, redis_client: redis.Redis, mode: str) -> None:
    cep = start_cep(f"cep-{mode}", ASYNC_MODE=mode)
    rid = requests.post(f"{cep.url}/rules", json=ABOVE, timeout=5).json()["rule"]["rule_id"]
    price(redis_client, 99)
    price(redis_client, 101)
    wait_for(lambda: rule_stats(cep, rid).get("matches") == 1, timeout=5, message=f"match under {mode}")


def test_absence_fires_on_silence_with_the_wall_clock(
    start_cep: StartCep, redis_client: redis.Redis, alert_listener: Callable[[], list[dict[str, Any]]]
) -> None:
    cep = start_cep(CEP_MAX_DISORDER_MS="50")
    above, below = {"field": "price", "op": ">", "value": 100}, {"field": "price", "op": "<", "value": 100}
    conditions = {"first": above, "then": below, "within": "300ms"}
    silence = {"name": "no pullback", "pattern": "absence", "conditions": conditions}
    rid = requests.post(f"{cep.url}/rules", json=silence, timeout=5).json()["rule"]["rule_id"]
    price(redis_client, 101, symbol="ETHUSDT")
    price(redis_client, 99, symbol="ETHUSDT")  # the pullback came: no alert for ETH
    price(redis_client, 101)  # BTC: nothing follows at all
    [alert] = wait_for(alert_listener, timeout=5, message="absence alert without further events")
    assert alert["rule_id"] == rid
    assert alert["partition"] == {"symbol": "BTCUSDT"}
    assert alert["pattern"] == "absence"
