"""The arbitrage detector as a real process on a real Redis: ticks in, signals out."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import requests

from ascep.common import channels
from ascep.common.timeutil import now_ms
from support.polling import wait_for
from support.processes import HttpService
from support.redis_server import RedisServer

pytestmark = pytest.mark.integration

StartService = Callable[..., HttpService]
FAIR = {"EUR/USD": (1.0999, 1.1001), "USD/JPY": (149.99, 150.01)}


def env(redis_url: str, **extra: str) -> dict[str, str]:
    return {"REDIS_URL": redis_url, "ARBITRAGE_SWEEP_INTERVAL_S": "0.05", "LOG_LEVEL": "INFO", **extra}


def tick(client: redis.Redis, symbol: str, bid: float, ask: float, source: str = "forex") -> None:
    record = {"symbol": symbol, "price": (bid + ask) / 2, "bid": bid, "ask": ask, "volume": None}
    record.update(source=source, ts=now_ms())
    client.publish(channels.PRICE_UPDATES, json.dumps(record))


def market(client: redis.Redis, cross: tuple[float, float], **legs: tuple[float, float]) -> None:
    for symbol, (bid, ask) in {**FAIR, **legs}.items():
        tick(client, symbol, bid, ask)
    tick(client, "EUR/JPY", *cross)


class SignalRecorder:
    """Everything published on ``arbitrage_signals`` since the recorder started."""

    def __init__(self, client: redis.Redis) -> None:
        self.pubsub = client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(channels.ARBITRAGE_SIGNALS)
        wait_for(self._confirmed, message="signal subscription")
        self.received: list[dict[str, Any]] = []

    def _confirmed(self) -> bool:
        """Consume the subscribe confirmation, so nothing published afterwards can be missed."""
        self.pubsub.get_message(timeout=0.05)
        return self.pubsub.subscribed  # set once the server's confirmation has been read

    def drain(self) -> list[dict[str, Any]]:
        while message := self.pubsub.get_message(timeout=0.01):
            self.received.append(json.loads(message["data"]))
        return self.received

    def wait_events(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        wait_for(lambda: len(self.drain()) >= count, timeout=timeout, message=f"{count} signal events")
        return self.received


@pytest.fixture
def signals(redis_client: redis.Redis) -> Iterator[SignalRecorder]:
    """A subscription to ``arbitrage_signals``."""
    recorder = SignalRecorder(redis_client)
    yield recorder
    recorder.pubsub.close()


def test_one_open_then_updates_then_closed(
    start_service: StartService, redis_url: str, redis_client: redis.Redis, signals: SignalRecorder
) -> None:
    service = start_service("arbitrage", "ascep.arbitrage", env=env(redis_url))
    market(redis_client, (166.0, 166.02))  # EUR/JPY 0.6 % rich: beats 3 x 0.1 % fees
    (opened,) = signals.wait_events(1)
    assert opened["event"] == "open"
    assert opened["status"] == "open"
    assert opened["type"] == "triangular"
    assert opened["path"] == ["EUR", "JPY", "USD", "EUR"]
    assert opened["spread_percentage"] == pytest.approx(
        ((166.0 * 0.999) / 150.01 * 0.999 / 1.1001 * 0.999 - 1) * 100, rel=1e-9
    )
    assert opened["severity"] in ("high", "medium", "low")
    assert isinstance(opened["id"], int)

    for _ in range(5):  # the same mispricing again and again: no new publication
        market(redis_client, (166.0, 166.02))
    market(redis_client, (166.6, 166.62))  # materially richer: one update
    events = signals.wait_events(2)
    assert [e["event"] for e in events] == ["open", "update"]
    assert events[1]["id"] == opened["id"]
    assert events[1]["peak_spread_percentage"] > opened["spread_percentage"]

    market(redis_client, (164.99, 165.01))  # mispricing removed
    events = signals.wait_events(3)
    assert [e["event"] for e in events] == ["open", "update", "close"]
    closed = events[2]
    assert (closed["id"], closed["status"], closed["close_reason"]) == (opened["id"], "closed", "disappeared")

    for prefix in ("", "/arbitrage"):
        listing = requests.get(f"{service.url}{prefix}/signals", timeout=2).json()
        assert listing["count"] == listing["total_count"] == 1
        assert listing["signals"][0]["status"] == "closed"
        one = requests.get(f"{service.url}{prefix}/signals/{opened['id']}", timeout=2).json()
        assert one["peak_spread_percentage"] == events[1]["spread_percentage"]
    assert requests.get(f"{service.url}/signals?status=open", timeout=2).json()["count"] == 0
    assert requests.get(f"{service.url}/signals?type=direct", timeout=2).json()["count"] == 0
    missing = requests.get(f"{service.url}/signals/999999", timeout=2)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    for query, parameter in [
        ("limit=0", "limit"),
        ("type=statistical", "type"),
        ("status=pending", "status"),
        ("min_spread=lots", "min_spread"),
        ("since=yesterday", "since"),
        ("since=2026-01-01T00:00:00", "since"),  # no zone
    ]:
        bad = requests.get(f"{service.url}/signals?{query}", timeout=2)
        assert (bad.status_code, bad.json()["error"]["details"]["parameter"]) == (400, parameter), query
    assert requests.get(f"{service.url}/signals?min_spread=99", timeout=2).json()["total_count"] == 0
    since = closed["first_seen"]
    assert requests.get(f"{service.url}/signals", params={"since": since}, timeout=2).json()["count"] == 1
    future = closed["ts"] + 60_000
    assert requests.get(f"{service.url}/signals?since={future}", timeout=2).json()["count"] == 0

    stats = requests.get(f"{service.url}/stats", timeout=2).json()
    assert stats["signals_by_type"]["triangular"] == 1
    assert stats["open_now"] == 0
    assert stats["best_spread_percentage"] == pytest.approx(events[1]["spread_percentage"])
    assert stats["ticks_processed"] >= 24
    assert stats["detection_ms"]["p99"] is not None
    assert requests.get(f"{service.url}/arbitrage/stats", timeout=2).status_code == 200
    metrics = requests.get(f"{service.url}/metrics", timeout=2).text
    assert "arbitrage_ticks_total" in metrics


def test_stale_quotes_close_the_signal(
    start_service: StartService, redis_url: str, redis_client: redis.Redis, signals: SignalRecorder
) -> None:
    service = start_service("arbitrage", "ascep.arbitrage", env=env(redis_url))
    response = requests.put(f"{service.url}/config", json={"max_quote_age_ms": 1000}, timeout=2)
    assert response.status_code == 200
    market(redis_client, (166.0, 166.02))
    events = signals.wait_events(2)  # opened, then nothing ticks: stale
    assert [(e["event"], e["close_reason"]) for e in events] == [("open", None), ("close", "stale")]


def test_ids_stay_unique_across_restarts(
    start_service: StartService, redis_url: str, redis_client: redis.Redis, signals: SignalRecorder
) -> None:
    first = start_service("arbitrage-1", "ascep.arbitrage", env=env(redis_url))
    market(redis_client, (166.0, 166.02))
    (opened,) = signals.wait_events(1)
    assert first.stop() == 0

    start_service("arbitrage-2", "ascep.arbitrage", env=env(redis_url))
    # The old opportunity is resumed under its id; a new one (GBP) gets a new id.
    for symbol, (bid, ask) in {"GBP/USD": (1.2699, 1.2701), "GBP/JPY": (192.0, 192.02)}.items():
        tick(redis_client, symbol, bid, ask)
    market(redis_client, (166.0, 166.02))
    wait_for(
        lambda: any(e["path"][:3] != ["EUR", "JPY", "USD"] for e in signals.drain()),
        message="a signal on a new opportunity",
    )
    ids = {e["id"] for e in signals.received if e["event"] == "open"}
    assert len(ids) == len([e for e in signals.received if e["event"] == "open"])
    new = [e for e in signals.received if e["path"][:3] != ["EUR", "JPY", "USD"]]
    assert all(e["id"] > opened["id"] for e in new)
    assert all(e["id"] == opened["id"] for e in signals.received if e["key"] == opened["key"])


def test_bad_config_is_rejected_and_good_config_applies_everywhere(
    start_service: StartService, redis_url: str, redis_client: redis.Redis, signals: SignalRecorder
) -> None:
    one = start_service("arbitrage-a", "ascep.arbitrage", env=env(redis_url))
    other = start_service("arbitrage-b", "ascep.arbitrage", env=env(redis_url))
    before = requests.get(f"{one.url}/config", timeout=2).json()
    cases = [
        ({"no_such_option": 1}, 400, "no_such_option"),
        ({"max_cycle_length": "four"}, 422, "max_cycle_length"),
        ({"max_cycle_length": 9}, 422, "max_cycle_length"),
        ({"default_fee_percentage": -1}, 422, "default_fee_percentage"),
        ({"min_profit_percentage": {"spatial": 1}}, 400, "min_profit_percentage.spatial"),
        ({"fee_percentage_by_source": {"binance": "cheap"}}, 422, "fee_percentage_by_source.binance"),
        ({"max_cycle_length": 3, "epsilon": 1}, 422, "epsilon"),  # one bad key: nothing changes
    ]
    for body, status, field in cases:
        response = requests.put(f"{one.url}/config", json=body, timeout=2)
        assert response.status_code == status, body
        assert response.json()["error"]["details"]["field"] == field
    not_json = requests.post(
        f"{one.url}/config", data="x", headers={"Content-Type": "application/json"}, timeout=2
    )
    assert not_json.status_code == 400
    assert requests.get(f"{one.url}/config", timeout=2).json() == before

    response = requests.put(f"{one.url}/arbitrage/config", json={"default_fee_percentage": 0.5}, timeout=2)
    assert response.status_code == 200
    assert response.json()["default_fee_percentage"] == 0.5
    assert json.loads(redis_client.get(channels.ARBITRAGE_CONFIG_KEY))["default_fee_percentage"] == 0.5
    wait_for(
        lambda: (
            requests.get(f"{other.url}/arbitrage/config", timeout=2).json()["default_fee_percentage"] == 0.5
        ),
        message="the other instance applying the config",
    )
    # Applied live: 0.6 % rich no longer beats 3 x 0.5 % fees, on either instance.
    market(redis_client, (166.0, 166.02))
    market(redis_client, (166.0, 166.02))
    wait_for(
        lambda: all(
            requests.get(f"{s.url}/stats", timeout=2).json()["ticks_processed"] >= 6 for s in (one, other)
        ),
        message="ticks processed",
    )
    assert signals.drain() == []

    # A restarted instance starts with the persisted config.
    assert other.stop() == 0
    third = start_service("arbitrage-c", "ascep.arbitrage", env=env(redis_url))
    assert requests.get(f"{third.url}/config", timeout=2).json()["default_fee_percentage"] == 0.5


def test_survives_a_redis_restart_and_health_tells_the_truth(
    start_service: StartService, redis_server: RedisServer, redis_url: str, signals: SignalRecorder
) -> None:
    service = start_service("arbitrage", "ascep.arbitrage", env=env(redis_url))
    signals.pubsub.close()
    redis_server.stop()

    def unhealthy() -> bool:
        response = requests.get(f"{service.url}/health", timeout=2)
        return response.status_code == 503 and (
            response.json()["checks"]["price_subscription"]["status"] == "unhealthy"
        )

    wait_for(unhealthy, timeout=10, message="/health reporting the dead subscription")
    assert requests.get(f"{service.url}/ready", timeout=2).status_code == 503
    down = requests.get(f"{service.url}/signals", timeout=3)
    assert (down.status_code, down.json()["error"]["code"]) == (503, "DEPENDENCY_UNAVAILABLE")
    stats = requests.get(f"{service.url}/stats", timeout=3)
    assert (stats.status_code, stats.json()["redis"]) == (200, "unavailable")
    assert requests.put(f"{service.url}/config", json={"epsilon": 0.0}, timeout=3).status_code == 503

    redis_server.start()
    wait_for(
        lambda: requests.get(f"{service.url}/health", timeout=2).status_code == 200,
        timeout=15,
        message="recovery",
    )
    with redis_server.client() as client:
        recorder = SignalRecorder(client)
        market(client, (166.0, 166.02))
        (opened,) = recorder.wait_events(1)
        recorder.pubsub.close()
    assert opened["event"] == "open"
    status = requests.get(f"{service.url}/status", timeout=2).json()
    assert status["listener"]["reconnects"] >= 1


def test_starts_from_the_latest_prices_and_skips_garbage(
    start_service: StartService, redis_url: str, redis_client: redis.Redis, signals: SignalRecorder
) -> None:
    quotes = {**FAIR, "EUR/JPY": (166.0, 166.02)}
    for symbol, (bid, ask) in quotes.items():
        record = {"symbol": symbol, "price": bid, "bid": bid, "ask": ask, "source": "forex", "ts": now_ms()}
        redis_client.hset(channels.PRICES_LATEST_KEY, symbol, json.dumps(record))
    service = start_service("arbitrage", "ascep.arbitrage", env=env(redis_url))
    (opened,) = signals.wait_events(1)  # found from the snapshot, before any tick
    assert opened["key"] == "triangular:EUR>JPY>USD"

    redis_client.publish(channels.PRICE_UPDATES, "not json")
    redis_client.publish(channels.PRICE_UPDATES, json.dumps({"symbol": "EUR/USD", "price": 1.1}))
    redis_client.publish(channels.PRICE_UPDATES, json.dumps([1, 2]))
    market(redis_client, (164.99, 165.01))
    assert [e["event"] for e in signals.wait_events(2)] == ["open", "close"]
    status = requests.get(f"{service.url}/status", timeout=2).json()
    assert status["listener"]["malformed_messages"] == 2
    assert status["detection"]["rejected_records"] == {"malformed": 1}
    assert requests.get(f"{service.url}/health", timeout=2).status_code == 200


def test_two_instances_publish_once_and_the_standby_takes_over(
    start_service: StartService, redis_url: str, redis_client: redis.Redis, signals: SignalRecorder
) -> None:
    lease = {"ARBITRAGE_LEADER_LEASE_S": "1.0"}
    first = start_service("arbitrage-a", "ascep.arbitrage", env=env(redis_url, **lease))
    wait_for(lambda: requests.get(f"{first.url}/status", timeout=2).json()["listener"]["role"] == "leader")
    second = start_service("arbitrage-b", "ascep.arbitrage", env=env(redis_url, **lease))
    assert requests.get(f"{second.url}/status", timeout=2).json()["listener"]["role"] == "standby"

    market(redis_client, (166.0, 166.02))
    market(redis_client, (164.99, 165.01))
    events = signals.wait_events(2)
    wait_for(
        lambda: requests.get(f"{second.url}/stats", timeout=2).json()["events"]["closed"] == 1,
        message="the standby seeing the same close",
    )
    assert [e["event"] for e in signals.drain()] == ["open", "close"]  # once, not once per instance

    market(redis_client, (166.0, 166.02))
    (_, _, reopened) = signals.wait_events(3)
    first.stop(signal.SIGKILL)  # no goodbye: the lease has to expire
    wait_for(
        lambda: requests.get(f"{second.url}/status", timeout=2).json()["listener"]["role"] == "leader",
        timeout=10,
        message="the standby taking over",
    )
    market(redis_client, (164.99, 165.01))
    events = signals.wait_events(4)
    assert events[3]["event"] == "close"
    assert events[3]["id"] == reopened["id"]  # the new leader kept the id it found in Redis
    assert events[0]["id"] != reopened["id"]


def test_a_redis_data_loss_is_reported_and_neither_config_nor_ids_are_lost(
    start_service: StartService, redis_url: str, redis_client: redis.Redis, signals: SignalRecorder
) -> None:
    """FLUSHALL under a running detector: the live configuration is written back (a restart would
    otherwise revert it) and the next signal id is above every id handed out before."""
    service = start_service("arbitrage", "ascep.arbitrage", env=env(redis_url))
    response = requests.put(f"{service.url}/config", json={"max_quote_age_ms": 1000}, timeout=2)
    assert response.status_code == 200
    health = requests.get(f"{service.url}/health", timeout=2).json()
    assert health["checks"]["redis_data"]["status"] == "healthy"
    market(redis_client, (166.0, 166.02))
    first, closed = signals.wait_events(2)  # opened, then stale after 1 s without ticks
    assert closed["event"] == "close"

    redis_client.flushall()

    def reported() -> str:
        check = requests.get(f"{service.url}/health", timeout=2).json()["checks"]["redis_data"]
        return check["status"] == "degraded" and check["detail"]

    assert wait_for(reported, timeout=10, message="data loss reported").startswith("Redis lost its data at ")
    stored = wait_for(lambda: redis_client.get(channels.ARBITRAGE_CONFIG_KEY), message="config written back")
    assert json.loads(stored)["max_quote_age_ms"] == 1000

    market(redis_client, (166.0, 166.02))
    events = signals.wait_events(3)
    assert events[2]["event"] == "open"
    assert events[2]["id"] > first["id"], "a signal id was handed out twice"
