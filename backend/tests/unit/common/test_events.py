"""Every bus event has one definition: it round-trips, tolerates extra fields, names what is wrong,
and what each producer publishes is exactly what the definition describes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
import redis

from ascep.arbitrage.config import DetectorConfig
from ascep.arbitrage.engine import ArbitrageEngine
from ascep.arbitrage.store import SignalStore
from ascep.cep.alert_payload import signal_of
from ascep.cep.engine import Engine
from ascep.cep.rules import validate_rule
from ascep.cep.store import RuleStore
from ascep.common import channels
from ascep.common.events import (
    ArbitrageSignal,
    CepAlert,
    CepSignal,
    ConfigChange,
    EventFormatError,
    PriceUpdate,
    RuleChange,
    ServiceStatus,
    TaskUpdate,
    decode,
)
from ascep.tasks.records import TaskRecords
from support.polling import wait_for

NOW = 1_700_000_000_000

PRICE = PriceUpdate("EUR/USD", 1.1, 1.0999, 1.1001, None, "forex", NOW)
SERVICE_STATUS = ServiceStatus("price_feed", "unhealthy", "degraded", 12.5, "timeout", "3 checks failed", NOW)
CONFIG_CHANGE = ConfigChange("arbitrage", {"max_cycle_length": 4})


def _signal_payloads() -> list[dict[str, Any]]:
    """What the detector publishes for a triangle that opens, moves and disappears."""
    zero = {"direct": 0.0, "triangular": 0.0, "cycle": 0.0}
    config = DetectorConfig(
        default_fee_percentage=0.0, min_profit_percentage=zero, update_threshold_percentage=0.05
    )
    engine = ArbitrageEngine(config)

    def tick(symbol: str, bid: float, ask: float, ts: int) -> list[Any]:
        record = {"symbol": symbol, "bid": bid, "ask": ask, "source": "fx", "ts": ts}
        return engine.on_record(record, ts)

    tick("EUR/USD", 1.0999, 1.1001, NOW)
    tick("USD/JPY", 149.99, 150.01, NOW)
    events = [*tick("EUR/JPY", 166.0, 166.02, NOW), *tick("EUR/JPY", 166.5, 166.52, NOW + 1)]
    events += tick("EUR/JPY", 165.0, 165.02, NOW + 2)
    assert [e.kind for e in events] == ["open", "update", "close"]
    return [dict(e.payload, id=7) for e in events]


def _alert_payload() -> dict[str, Any]:
    """What the engine builds for a match (before ``alert_id``/``detected_at`` are given)."""
    engine = Engine()
    spec = {"name": "above", "pattern": "threshold", "partition_by": ["symbol"],
            "conditions": {"field": "price", "op": ">", "value": 100, "mode": "level"}}  # fmt: skip
    engine.upsert(validate_rule(spec, engine.limits, rule_id=3, version=3))
    (firing,) = engine.process("prices", {"symbol": "BTCUSDT", "price": 101.0, "ts": NOW})
    return firing.alert


def _cep_signal_payload() -> dict[str, Any]:
    """What an ``emit_signal`` action publishes (the real producer, from a real match)."""
    spec = {"name": "above", "pattern": "threshold", "partition_by": ["symbol"], "severity": "high",
            "conditions": {"field": "price", "op": ">", "value": 100, "mode": "level"}}  # fmt: skip
    rule = validate_rule(spec, rule_id=3, version=3)
    alert = {**_alert_payload(), "alert_id": "a" * 32, "detected_at": "2023-11-14T22:13:21.000Z"}
    return signal_of(rule, alert, {"type": "emit_signal", "message": "{symbol} at {price}"})


def _task_record() -> dict[str, Any]:
    return {
        "id": "abc", "name": "export_prices", "args": {"symbol": "BTCUSDT"}, "status": "running",
        "progress": 0.5, "message": "half", "attempts": 1, "submitted_ts": NOW, "queued_ts": NOW,
        "started_ts": NOW + 5, "worker": "w1@host", "cancel_requested": False,
        "submitted_at": "2023-11-14T22:13:20.000Z", "started_at": "2023-11-14T22:13:20.005Z",
        "finished_at": None, "error": None, "has_result": False,
    }  # fmt: skip


ROUND_TRIPS: list[tuple[type, Callable[[], dict[str, Any]]]] = [
    (PriceUpdate, PRICE.to_dict),
    (ArbitrageSignal, lambda: _signal_payloads()[0]),
    (CepAlert, _alert_payload),
    (CepAlert, lambda: {**_alert_payload(), "alert_id": "f" * 32, "detected_at": "2023-11-14T22:13:21.000Z"}),
    (CepSignal, _cep_signal_payload),
    (ServiceStatus, SERVICE_STATUS.to_dict),
    (TaskUpdate, _task_record),
    (ConfigChange, CONFIG_CHANGE.to_dict),
    (RuleChange, lambda: RuleChange.upsert({"rule_id": 1, "name": "x"}).to_dict()),
    (RuleChange, lambda: RuleChange.delete(4).to_dict()),
]


@pytest.mark.parametrize(("cls", "payload"), ROUND_TRIPS)
def test_round_trip_through_json(cls: Any, payload: Callable[[], dict[str, Any]]) -> None:
    original = payload()
    parsed = cls.from_dict(decode(json.dumps(original)))
    assert parsed.to_dict() == original
    assert cls.from_dict(parsed.to_dict()) == parsed


@pytest.mark.parametrize(("cls", "payload"), ROUND_TRIPS)
def test_extra_fields_from_other_publishers_are_tolerated(cls: Any, payload: Callable[[], dict]) -> None:
    original = payload()
    assert cls.from_dict({**original, "vendor_field": [1, 2]}).to_dict() == original


@pytest.mark.parametrize(
    ("cls", "payload", "field"),
    [
        (PriceUpdate, {**PRICE.to_dict(), "price": "n/a"}, "price"),
        (ArbitrageSignal, {**_signal_payloads()[0], "legs": "EUR"}, "legs"),
        (ArbitrageSignal, {**_signal_payloads()[0], "spread_percentage": None}, "spread_percentage"),
        (CepAlert, {**_alert_payload(), "partition": ["BTCUSDT"]}, "partition"),
        (CepSignal, {**_cep_signal_payload(), "symbols": "BTCUSDT"}, "symbols"),
        (ServiceStatus, {**SERVICE_STATUS.to_dict(), "status": "fine"}, "status"),
        (TaskUpdate, {**_task_record(), "has_result": "no"}, "has_result"),
        (ConfigChange, {"config": {}}, "service"),
        (RuleChange, {"op": "delete", "rule_id": "4"}, "rule_id"),
        (RuleChange, {"op": "rename"}, "op"),
    ],
)
def test_malformed_payload_names_the_field(cls: Any, payload: Mapping[str, Any], field: str) -> None:
    with pytest.raises(EventFormatError) as raised:
        cls.from_dict(payload)
    assert raised.value.field == field


def test_price_route_is_what_the_gateway_orders_by() -> None:
    assert PriceUpdate.route({"symbol": "BTCUSDT", "ts": NOW, "extra": 1}) == ("BTCUSDT", NOW)
    for bad in ({"symbol": "BTCUSDT"}, {"symbol": 1, "ts": NOW}, {"symbol": "X", "ts": "1"}):
        with pytest.raises(EventFormatError):
            PriceUpdate.route(bad)


def test_signal_route_takes_the_peak_and_ignores_what_is_not_a_number() -> None:
    signal = {"type": "direct", "spread_percentage": 0.1, "peak_spread_percentage": 0.4}
    assert ArbitrageSignal.route(signal) == ("direct", 0.4)
    assert ArbitrageSignal.route({"type": "cycle", "spread_percentage": True}) == ("cycle", None)
    assert ArbitrageSignal.route({}) == (None, None)


# --- what the producers publish validates against the definitions ---------------------------------


def test_the_detector_publishes_signals() -> None:
    for payload in _signal_payloads():
        assert ArbitrageSignal.from_dict(payload).to_dict() == payload


def test_the_engine_builds_alerts() -> None:
    payload = _alert_payload()
    assert CepAlert.from_dict(payload).to_dict() == payload
    assert "alert_id" not in payload  # given when emitted, not by a backtest's replay


@pytest.fixture
def listen(redis_client: redis.Redis) -> Iterator[Callable[[str], Callable[[], dict[str, Any]]]]:
    """Subscribe to a channel; the returned callable waits for its next message (decoded)."""
    pubsubs: list[redis.client.PubSub] = []

    def subscribe(channel: str) -> Callable[[], dict[str, Any]]:
        pubsub = redis_client.pubsub()
        pubsubs.append(pubsub)
        pubsub.subscribe(channel)
        confirmed = wait_for(lambda: pubsub.get_message(timeout=0.05), message=f"subscribed to {channel}")
        assert confirmed["type"] == "subscribe"

        def receive() -> dict[str, Any]:
            message = wait_for(lambda: pubsub.get_message(timeout=0.05), message=f"a message on {channel}")
            return decode(message["data"])

        return receive

    yield subscribe
    for pubsub in pubsubs:
        pubsub.close()


def test_the_rule_store_publishes_rule_changes(redis_client: redis.Redis, listen: Any) -> None:
    receive = listen(channels.CEP_RULE_CHANGES)
    store = RuleStore(redis_client)
    doc = store.create({"name": "r", "pattern": "threshold"})
    created = receive()
    assert RuleChange.from_dict(created) == RuleChange.upsert(doc)
    store.delete(doc["rule_id"])
    assert RuleChange.from_dict(receive()) == RuleChange.delete(doc["rule_id"])
    capped = RuleStore(redis_client, max_rules=100)
    doc = capped.create({"name": "capped", "pattern": "threshold"})
    assert RuleChange.from_dict(receive()) == RuleChange.upsert(doc)


def test_the_signal_store_publishes_config_changes(redis_client: redis.Redis, listen: Any) -> None:
    receive = listen(channels.CONFIG_CHANGES)
    SignalStore(redis_client).save_config({"max_cycle_length": 3})
    assert ConfigChange.from_dict(receive()) == ConfigChange("arbitrage", {"max_cycle_length": 3})


def test_task_records_publish_task_updates(redis_client: redis.Redis, listen: Any) -> None:
    receive = listen(channels.TASK_UPDATES)
    records = TaskRecords(redis_client, history_size=10, ttl_s=60)
    created = records.create("export_prices", {"symbol": "BTCUSDT"})
    queued = receive()
    assert TaskUpdate.from_dict(queued).to_dict() == queued
    assert queued["id"] == created["id"]
    assert queued["status"] == "queued"
    assert "result" not in queued
    run_id, _, _ = records.start(created["id"], "w1@host", 30_000)
    assert run_id is not None
    running = receive()
    assert TaskUpdate.from_dict(running) == TaskUpdate.from_dict({**running, "worker": "w1@host"})
    assert running["status"] == "running"
    assert running["started_ts"] >= running["submitted_ts"]
