"""A team running the original ASCEP points its clients at our gateway: every request they send works.

One real stack for the module — gateway, CEP engine, arbitrage detector, price feed (simulated
crypto and forex, no network) on a private Redis — driven only the way the original clients drive
it: the original dashboard's rule form and toggle, its arbitrage config sliders, its Socket.IO
connection (which declares nothing and subscribes to three forex symbols), and scripts pushing
ticks to ``POST /api/prices``. Each test asserts the fields and types those clients read.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
import requests
import websocket

from support.polling import wait_for
from support.ports import free_port
from support.processes import HttpService
from support.raw_sio import ws_url
from support.redis_server import RedisServer
from support.sio import RecordingClient

pytestmark = pytest.mark.integration

PUSH_SOURCE = "lp-compat"
BIG_PUSHED_LINK = f'source == "{PUSH_SOURCE}" and price > 10000'
#: Three low, two high, two low: the short moving average crosses the long one at least once.
LOW_HIGH_LOW = (0.1, 0.1, 0.1, 10, 10, 0.1, 0.1)


@dataclass
class Stack:
    gateway: HttpService
    cep: HttpService
    redis: redis.Redis

    @property
    def api(self) -> str:
        return f"{self.gateway.url}/api"


@pytest.fixture(scope="module")
def stack(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole platform, as ``./ascep run`` would start it, minus Binance and the health monitor."""
    if redis_server.process is None:
        redis_server.start()
    client = redis.Redis.from_url(redis_server.url, decode_responses=True, socket_timeout=5)
    client.flushall()
    logs = tmp_path_factory.mktemp("original-contract")
    base = {"REDIS_URL": redis_server.url, "LOG_LEVEL": "INFO"}

    def service(name: str, module: str, **env: str) -> HttpService:
        return HttpService(name, [sys.executable, "-m", module], {**base, **env}, logs)

    cep = service("cep", "ascep.cep", CEP_TICK_INTERVAL_S="0.05")
    arbitrage = service("arbitrage", "ascep.arbitrage", ARBITRAGE_SWEEP_INTERVAL_S="0.05")
    feed = service(
        "price_feed", "ascep.price_feed", PRICE_SOURCES="simulated,forex", SIMULATED_TICK_RATE="2",
        FOREX_TICK_RATE="2", SIMULATION_SEED="7", PRICE_INGEST_MAX_BATCH="50",
    )  # fmt: skip
    gateway = service(
        "gateway", "ascep.gateway", CEP_ENGINE_URL=cep.url, ARBITRAGE_URL=arbitrage.url,
        PRICE_FEED_URL=feed.url, HEALTH_URL=f"http://127.0.0.1:{free_port()}", TASKS_URL=f"http://127.0.0.1:{free_port()}",
        HEALTH_POLL_INTERVAL="1", HEALTH_CHECK_TIMEOUT="1",
        RATE_LIMIT="off", RATE_LIMIT_SOCKETIO="off",  # replays many calls quickly from one address
    )  # fmt: skip
    started = [cep, arbitrage, feed, gateway]
    try:
        for process in started:
            process.start()
        for process in started:
            process.wait_healthy(timeout=30)
        cep.wait_until(
            lambda: (
                requests.get(f"{cep.url}/status", timeout=2).json()["subscription"]["state"] == "connected"
            ),
            what="subscribed",
        )
        gateway.wait_until(
            lambda: (
                requests.get(f"{gateway.url}/status", timeout=2).json()["realtime"]["bridge"]["state"]
                == "connected"
            ),
            what="bridging the bus",
        )
        feed.wait_until(
            lambda: requests.get(f"{feed.url}/prices", timeout=2).json()["total_pairs"] >= 20, what="pricing"
        )
        yield Stack(gateway, cep, client)
    finally:
        for process in reversed(started):
            process.stop()
        client.close()


def latest_price(stack: Stack, symbol: str) -> float:
    return float(requests.get(f"{stack.api}/prices/{symbol}", timeout=5).json()["price"])


def push(stack: Stack, body: Any) -> requests.Response:
    return requests.post(f"{stack.api}/prices", json=body, timeout=5)


def rules(stack: Stack) -> dict[int, dict[str, Any]]:
    listed = requests.get(f"{stack.api}/rules", timeout=5)
    assert listed.status_code == 200
    return {rule["rule_id"]: rule for rule in listed.json()["rules"]}


def create(stack: Stack, rule: dict[str, Any]) -> dict[str, Any]:
    created = requests.post(f"{stack.api}/rules", json=rule, timeout=5)
    assert created.status_code == 201, created.text
    body = created.json()
    assert isinstance(body["message"], str)
    return body["rule"]


def assert_original_fields(rule: dict[str, Any]) -> None:
    """What the original dashboard (CEPRules.js) and API documentation read from a rule."""
    assert isinstance(rule["rule_id"], int)
    assert isinstance(rule["name"], str)
    assert isinstance(rule["pattern"], str)
    assert isinstance(rule["enabled"], bool)
    assert isinstance(rule["created_at"], str)
    assert isinstance(rule["trigger_count"], int)
    assert rule["last_triggered"] is None or isinstance(rule["last_triggered"], str)
    assert isinstance(rule["conditions"], dict)


def signal_of_rule(client: RecordingClient, rule_id: int) -> dict[str, Any] | None:
    """The first ``arbitrage_signal`` a rule's ``create_signal`` produced, as the client got it."""
    return next((s for s in client.events("arbitrage_signal") if s.get("rule_id") == rule_id), None)


def original_client(stack: Stack) -> RecordingClient:
    """The original dashboard's connection: declares nothing, subscribes to three forex symbols."""
    client = RecordingClient(stack.gateway.url, protocol=None)
    client.client.emit("subscribe_prices", {"symbols": ["EUR/USD", "USD/EUR", "GBP/USD"]})
    client.client.emit("subscribe_signals")
    return client


# --- CEP rules ----------------------------------------------------------------------------------------
ORIGINAL_RULES = [
    # (pattern, action, conditions): every action word, pattern and condition key of the original
    ("price_spike", "send_alert", {"price_change_threshold": 3.0}),
    ("price_spike", "generate_alert", {}),
    ("volume_surge", "create_signal", {"volume_threshold": 2_000_000}),
    ("arbitrage_opportunity", "generate_signal", {"spread_threshold": 0.2}),
    ("trend_reversal", "log_event", {"ma_short": 10, "ma_long": 50, "symbol": "EUR/USD"}),
    ("my_custom_pattern", "log_event", {"custom_condition": "BTC"}),
]


def test_rules_in_the_original_shape_create_toggle_update_delete(stack: Stack) -> None:
    created = [
        create(stack, {"name": f"original {i}", "pattern": p, "action": a, "conditions": c, "enabled": True})
        for i, (p, a, c) in enumerate(ORIGINAL_RULES)
    ]
    listed = rules(stack)
    for rule in created:
        assert (rule["trigger_count"], rule["last_triggered"]) == (0, None)  # as created
        shown = listed[rule["rule_id"]]
        assert_original_fields(shown)  # (the live market may have fired some since)
        assert shown["enabled"] is True
    assert listed[created[4]["rule_id"]]["where"] == {"field": "symbol", "op": "==", "value": "EUR/USD"}

    target = created[0]
    url = f"{stack.api}/rules/{target['rule_id']}"
    # The original dashboard's toggle: PUT with only {"enabled": !rule.enabled}.
    toggled = requests.put(url, json={"enabled": False}, timeout=5)
    assert toggled.status_code == 200, toggled.text
    assert toggled.json()["rule"]["enabled"] is False
    assert toggled.json()["rule"]["conditions"] == target["conditions"]
    assert rules(stack)[target["rule_id"]]["enabled"] is False
    # The original API documentation's partial update.
    renamed = requests.put(
        url, json={"name": "renamed", "conditions": {"price_change_threshold": 2.5}}, timeout=5
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["rule"]["name"], renamed.json()["rule"]["conditions"]["percent"]) == (
        "renamed",
        2.5,
    )
    assert renamed.json()["rule"]["enabled"] is False
    # The original dashboard's "Save Changes": the whole rule as it was listed, sent back.
    whole = {**rules(stack)[target["rule_id"]], "enabled": True}
    saved = requests.put(url, json=whole, timeout=5)
    assert saved.status_code == 200, saved.text
    assert saved.json()["rule"]["enabled"] is True

    for rule in created:
        deleted = requests.delete(f"{stack.api}/rules/{rule['rule_id']}", timeout=5)
        assert deleted.status_code == 200
        assert deleted.json()["rule"]["rule_id"] == rule["rule_id"]
    assert not set(rules(stack)) & {r["rule_id"] for r in created}


@pytest.mark.parametrize(
    ("body", "status", "path"),
    [
        ({"name": "x", "pattern": "nope", "action": "log_event", "conditions": {}}, 422, "$.pattern"),
        ({"name": "x", "pattern": "price_spike", "action": "trigger_order"}, 422, "$.action[0].type"),
        ({"name": "x", "pattern": "c", "action": "log_event",
          "conditions": {"custom_condition": "x" * 100_000}},
         422, "$"),
        ({"name": "x", "pattern": "c", "action": "log_event", "conditions": {"custom_condition": "a >"}},
         422, "$.conditions.custom_condition"),
        ({"name": "x", "pattern": "c", "action": "log_event", "conditions": {"custom_condition": {"a": [1]}}},
         422, "$.conditions.custom_condition"),
        ({"name": ["x"], "pattern": "price_spike", "action": "log_event"}, 422, "$.name"),
        ({"name": "x", "pattern": "price_spike", "action": "log_event",
          "conditions": {"a": [[[[[[[[]]]]]]]]}},
         422, "$.conditions.a"),
    ],
)  # fmt: skip
def test_hostile_rules_get_clear_envelopes(stack: Stack, body: Any, status: int, path: str) -> None:
    answer = requests.post(f"{stack.api}/rules", json=body, timeout=5)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["path"] == path
    assert "Traceback" not in answer.text


def test_a_partial_put_that_breaks_the_rule_is_refused_and_changes_nothing(stack: Stack) -> None:
    rule = create(stack, {"name": "keep", "pattern": "price_spike", "action": "send_alert", "conditions": {}})
    url = f"{stack.api}/rules/{rule['rule_id']}"
    for body in ({"enabled": "no"}, {"conditions": {"percent": -1}}, {"pattern": "volume_surge"}):
        refused = requests.put(url, json=body, timeout=5)
        assert refused.status_code == 422, refused.text
    assert requests.put(url, json=["enabled"], timeout=5).status_code == 422
    assert rules(stack)[rule["rule_id"]]["version"] == rule["version"]
    requests.delete(url, timeout=5)


# --- rules firing on real events, seen by original clients ---------------------------------------
def test_original_rules_fire_from_real_price_events_and_reach_original_clients(stack: Stack) -> None:
    spike = create(stack, {"name": "DOT jump", "pattern": "price_spike", "action": "create_signal",
                           "conditions": {"price_change_threshold": 50.0, "symbol": "DOT/USDT"}})  # fmt: skip
    volume = create(stack, {"name": "ADA volume", "pattern": "volume_surge", "action": "send_alert",
                            "conditions": {"volume_threshold": 1e15, "symbol": "ADA/USDT"}})  # fmt: skip
    trend = create(stack, {"name": "LTC trend", "pattern": "trend_reversal", "action": "log_event",
                           "conditions": {"ma_short": 2, "ma_long": 3, "symbol": "LTCUSDT"}})  # fmt: skip
    substring = create(stack, {"name": "pushed", "pattern": "push_watch", "action": "log_event",
                               "conditions": {"custom_condition": PUSH_SOURCE}})  # fmt: skip
    expression = create(stack, {"name": "big LINK", "pattern": "link_watch", "action": "generate_alert",
                                "conditions": {"custom_condition": BIG_PUSHED_LINK}})  # fmt: skip
    assert spike["where"]["value"] == "DOTUSDT"  # BTC/USDT-style spellings resolve to the feed's
    old = original_client(stack)
    new = RecordingClient(stack.gateway.url)
    try:
        assert new.call("subscribe_alerts")["ok"] is True
        dot, ltc = latest_price(stack, "DOTUSDT"), latest_price(stack, "LTCUSDT")
        pushed = push(stack, {"prices": [
            {"symbol": "DOT/USDT", "price": dot * 3, "source": PUSH_SOURCE},
            {"symbol": "ADAUSDT", "price": 1.0, "volume": 2e15, "source": PUSH_SOURCE},
            {"symbol": "LINKUSDT", "price": 20000.0, "source": PUSH_SOURCE},
            *({"symbol": "LTCUSDT", "price": ltc * f, "source": PUSH_SOURCE} for f in LOW_HIGH_LOW),
        ]})  # fmt: skip
        assert pushed.status_code == 200, pushed.text
        assert pushed.json()["accepted"] == 10

        # create_signal: a cep_signal for alert subscribers, an arbitrage_signal for original clients
        signal = wait_for(
            lambda: signal_of_rule(old, spike["rule_id"]),
            timeout=10,
            message="the CEP signal as an arbitrage_signal",
        )
        assert (signal["type"], signal["rule_name"], signal["pattern"]) == (
            "cep_signal",
            "DOT jump",
            "price_spike",
        )
        assert signal["symbols"] == ["DOTUSDT"]
        assert isinstance(signal["timestamp"], str)
        assert signal["severity"] in ("low", "medium", "high", "critical")
        assert signal["event_data"]["symbol"] == "DOTUSDT"  # the tick that made the 50 % move
        wait_for(lambda: any(s["rule_id"] == spike["rule_id"] for s in new.events("cep_signal")), timeout=10)
        # send_alert / generate_alert: cep_alert
        alerts = wait_for(
            lambda: {a["rule_id"] for a in new.events("cep_alert")}
            >= {volume["rule_id"], expression["rule_id"]},
            timeout=10, message="the alerts",
        )  # fmt: skip
        assert alerts

        # every rule (log_event ones included) counted, once, in the list the dashboard reads
        def all_counted() -> dict[int, dict[str, Any]] | None:
            listed = rules(stack)
            counted = all(
                listed[r["rule_id"]]["trigger_count"] >= 1
                for r in (spike, volume, trend, substring, expression)
            )
            return listed if counted else None

        fired = wait_for(all_counted, timeout=10, message="trigger counts")
        assert fired[volume["rule_id"]]["trigger_count"] == 1  # reaching the level fires once
        assert isinstance(fired[spike["rule_id"]]["last_triggered"], str)
        # every pushed tick names the source; ticks of one symbol at one instant are one firing (the
        # alert claim is per rule, partition and event time), so at least one per pushed symbol
        assert fired[substring["rule_id"]]["trigger_count"] >= 4
    finally:
        old.close()
        new.close()
        for rule in (spike, volume, trend, substring, expression):
            requests.delete(f"{stack.api}/rules/{rule['rule_id']}", timeout=5)


# --- arbitrage configuration ------------------------------------------------------------------------
def test_arbitrage_config_speaks_the_original_keys(stack: Stack) -> None:
    url = f"{stack.api}/arbitrage/config"
    before = requests.get(url, timeout=5).json()
    assert isinstance(before["cross_currency_threshold"], float)
    assert isinstance(before["triangular_threshold"], float)
    assert isinstance(before["max_signals_per_cycle"], int)
    try:
        updated = requests.post(
            url,
            json={"cross_currency_threshold": 0.05, "triangular_threshold": 0.07, "max_signals_per_cycle": 3},
            timeout=5,
        )  # fmt: skip
        assert updated.status_code == 200, updated.text
        after = requests.get(url, timeout=5).json()
        original_keys = ("cross_currency_threshold", "triangular_threshold", "max_signals_per_cycle")
        assert tuple(after[k] for k in original_keys) == (0.05, 0.07, 3)
        assert after["min_profit_percentage"]["direct"] == 0.05
        assert after["max_new_signals_per_tick"] == 3
        conflict = requests.post(
            url, json={"max_signals_per_cycle": 4, "max_new_signals_per_tick": 5}, timeout=5
        )
        assert conflict.status_code == 400
        assert conflict.json()["error"]["details"]["fields"] == [
            "max_signals_per_cycle",
            "max_new_signals_per_tick",
        ]
        bad = requests.post(url, json={"triangular_threshold": "high"}, timeout=5)
        assert (bad.status_code, bad.json()["error"]["details"]["field"]) == (422, "triangular_threshold")
        assert requests.get(url, timeout=5).json()["max_signals_per_cycle"] == 3  # refusals change nothing
    finally:
        requests.put(
            url, json={k: before[k] for k in ("min_profit_percentage", "max_new_signals_per_tick")}, timeout=5
        )


# --- Socket.IO ----------------------------------------------------------------------------------------
def test_an_original_client_gets_every_symbol_and_every_signal_without_subscribing_per_symbol(
    stack: Stack,
) -> None:
    symbols = set(requests.get(f"{stack.api}/prices", timeout=5).json()["prices"])
    wide = {"name": "wide spread", "pattern": "arbitrage_opportunity", "action": "create_signal",
            "conditions": {"spread_threshold": 0.5}}  # fmt: skip
    watcher = create(stack, wide)
    old = original_client(stack)
    new = RecordingClient(stack.gateway.url)
    try:
        hello = old.wait_events("connected", 1)[0]
        assert isinstance(hello["message"], str)
        assert hello["protocol"] == 1
        [confirmation] = old.wait_events("subscription_confirmed", 1)[:1]
        assert confirmation["unknown"] == ["USD/EUR"]
        assert confirmation["delivery"] == "all"
        ack = new.call("subscribe_prices", {"symbols": ["BTC/USDT", "USD/EUR"]})
        assert (ack["ok"], ack["symbols"], ack["unknown"], ack["resolved"]) == (
            True, ["BTCUSDT", "USD/EUR"], ["USD/EUR"], {"BTC/USDT": "BTCUSDT"},
        )  # fmt: skip
        started = time.time()
        wait_for(
            lambda: {p["symbol"] for p, at in old.arrivals("price_update") if at > started} >= symbols,
            timeout=20, message="a live price_update of every symbol",
        )  # fmt: skip
        for update in old.events("price_update")[-5:]:
            assert isinstance(update["symbol"], str)
            assert isinstance(update["price"], float)
            assert isinstance(update["timestamp"], str)
        assert {p["symbol"] for p in new.prices()} == {"BTCUSDT"}
        # an arbitrage signal from a pushed quote: a second venue pays 2 % more for BTC
        btc = latest_price(stack, "BTCUSDT")

        def quote() -> dict[str, Any] | None:
            push(stack, {"symbol": "BTCUSDT", "bid": btc * 1.02, "ask": btc * 1.021, "source": "lp-venue"})
            return next((s for s in old.events("arbitrage_signal") if s.get("type") == "direct"), None)

        signal = wait_for(quote, timeout=15, interval=0.5, message="a direct arbitrage signal")
        assert isinstance(signal["spread_percentage"], float)
        assert isinstance(signal["symbols"], list)
        assert signal["severity"] in ("low", "medium", "high")
        # ... which the arbitrage_opportunity rule turns into a CEP signal, as the original dashboard shows it
        cep = wait_for(
            lambda: signal_of_rule(old, watcher["rule_id"]), timeout=10, message="the rule's signal"
        )
        assert (cep["type"], cep["pattern"], cep["rule_name"]) == (
            "cep_signal",
            "arbitrage_opportunity",
            "wide spread",
        )
        assert cep["spread_percentage"] >= 0.5
        assert cep["symbols"] == ["BTCUSDT", "BTCUSDT"]  # the matched signal's legs
        assert new.events("arbitrage_signal") == []  # protocol 2 without a signal subscription
    finally:
        old.close()
        new.close()
        requests.delete(f"{stack.api}/rules/{watcher['rule_id']}", timeout=5)


def test_an_unknown_protocol_is_refused_at_the_handshake(stack: Stack) -> None:
    ws = websocket.create_connection(ws_url(stack.gateway.url), timeout=10)
    try:
        assert ws.recv().startswith("0{")
        ws.send('40{"protocol":9}')
        refused = ws.recv()
    finally:
        ws.close()
    assert refused.startswith("44"), refused  # Socket.IO CONNECT_ERROR, with the envelope as data
    data = json.loads(refused[2:])
    assert "protocol" in data["message"]
    assert data["data"]["error"]["code"] == "VALIDATION_ERROR"
    assert data["data"]["error"]["details"]["field"] == "auth.protocol"


# --- POST /api/prices --------------------------------------------------------------------------------
def test_pushed_prices_are_published_like_any_source(stack: Stack) -> None:
    watcher = RecordingClient(stack.gateway.url)
    try:
        watcher.call("subscribe_prices", {"symbols": ["EUR/USD"]})
        single = push(stack, {"symbol": "eur/usd", "price": 1.2345, "timestamp": "2020-01-01T00:00:00",
                              "type": "price_update"})  # fmt: skip
        assert single.status_code == 200, single.text
        assert (single.json()["status"], single.json()["accepted"]) == ("success", 1)
        live = push(stack, {"symbol": "EURUSD", "bid": 1.5, "ask": 1.5002, "source": "lp-push"})
        assert live.status_code == 200
        update = wait_for(
            lambda: next((p for p in watcher.prices() if p["source"] == "lp-push"), None),
            timeout=10, message="the pushed tick on Socket.IO",
        )  # fmt: skip
        assert (update["symbol"], update["bid"], update["ask"]) == ("EUR/USD", 1.5, 1.5002)
        batch = push(stack, [{"symbol": "GBP/USD", "price": 1.3, "source": "lp-push"}] * 3)
        assert (batch.status_code, batch.json()["accepted"]) == (200, 3)
        sources = requests.get(f"{stack.api}/sources", timeout=5).json()
        assert sources["sources"]["lp-push"]["published"] == 4
        assert sources["sources"]["lp-push"]["kind"] == "push"
        assert sources["sources"]["external"]["published"] >= 1
        history = requests.get(f"{stack.api}/prices/EURUSD/history?limit=1000", timeout=5).json()["history"]
        assert any(r["source"] == "lp-push" for r in history)
    finally:
        watcher.close()


@pytest.mark.parametrize(
    ("body", "status", "path"),
    [
        ({"symbol": "USD/EUR", "price": 1.0}, 422, "$.symbol"),
        ({"symbol": "BTCUSDT", "price": "lots"}, 422, "$.price"),
        ({"symbol": "BTCUSDT", "price": 1.0, "source": "binance"}, 422, "$.source"),
        ({"symbol": "BTCUSDT", "price": 1.0, "ts": 99_999_999_999_999}, 422, "$.ts"),
        ([{"symbol": "BTCUSDT", "price": 1.0}] * 51, 422, "$"),
        ({"prices": [{"symbol": "BTCUSDT", "price": 1.0}, {"symbol": "BTCUSDT", "price": -1}]},
         422, "$.prices[1].price"),
        ("BTCUSDT 1.0", 422, "$"),
    ],
)  # fmt: skip
def test_hostile_pushes_get_envelopes_and_publish_nothing(
    stack: Stack, body: Any, status: int, path: str
) -> None:
    answer = push(stack, body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == "VALIDATION_ERROR"
    assert answer.json()["error"]["details"]["path"] == path


def test_a_push_that_is_not_json_is_a_400(stack: Stack) -> None:
    answer = requests.post(f"{stack.api}/prices", data="symbol=BTCUSDT&price=1", timeout=5,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "BAD_REQUEST"
