"""HTTP API: symbol spellings in paths (forex slashes included), history, sources, errors."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ascep.common.events import PriceUpdate
from ascep.common.lifecycle import runtime_of
from ascep.price_feed import create_app
from ascep.price_feed.feed import PriceFeed
from ascep.price_feed.runtime import PriceFeedRuntime
from support.polling import wait_for
from support.redis_server import RedisServer

pytestmark = pytest.mark.integration


@pytest.fixture
def app(redis_url: str) -> Iterator[Flask]:
    """The price feed app on the test's Redis, sources not started, publisher running."""
    application = create_app({"REDIS_URL": redis_url, "PRICE_SOURCES": "simulated,forex", "TESTING": True})
    feed: PriceFeed = runtime_of(application, PriceFeedRuntime).feed
    feed.publisher.start()
    yield application
    feed.publisher.stop(flush_timeout=0.5)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Test client of ``app``."""
    return app.test_client()


def emit(app: Flask, symbol: str, price: float, ts: int, source: str = "forex") -> PriceUpdate:
    record = PriceUpdate(symbol, price, price * 0.9999, price * 1.0001, 5.0, source, ts)
    feed: PriceFeed = runtime_of(app, PriceFeedRuntime).feed
    feed.emit(record, time.monotonic_ns())
    return record


def assert_envelope(response: object, status: int, code: str) -> dict:
    assert response.status_code == status  # type: ignore[attr-defined]
    body = response.get_json()  # type: ignore[attr-defined]
    assert body["error"]["code"] == code
    assert body["request_id"]
    return body


def test_all_prices(app: Flask, client: FlaskClient) -> None:
    assert client.get("/prices").get_json()["total_pairs"] == 0
    emit(app, "EUR/USD", 1.08, 1000)
    btc = emit(app, "BTCUSDT", 65000.0, 1001, source="simulated")
    body = client.get("/prices").get_json()
    assert body["total_pairs"] == 2
    assert list(body["prices"]) == ["BTCUSDT", "EUR/USD"]
    assert body["prices"]["BTCUSDT"] == btc.to_dict()
    assert set(btc.to_dict()) == {"symbol", "price", "bid", "ask", "volume", "source", "timestamp", "ts"}
    assert body["timestamp"].endswith("Z")


@pytest.mark.parametrize(
    ("path", "symbol"),
    [
        ("/prices/EUR/USD", "EUR/USD"),
        ("/prices/EURUSD", "EUR/USD"),
        ("/prices/eur-usd", "EUR/USD"),
        ("/prices/eur_usd", "EUR/USD"),
        ("/prices/EUR%2FUSD", "EUR/USD"),
        ("/prices/EUR/USD/", "EUR/USD"),
        ("/prices/BTCUSDT", "BTCUSDT"),
        ("/prices/btcusdt", "BTCUSDT"),
        ("/prices/BTC/USDT", "BTCUSDT"),
        ("/prices/btc-usdt", "BTCUSDT"),
    ],
)
def test_one_symbol_in_every_accepted_spelling(
    app: Flask, client: FlaskClient, path: str, symbol: str
) -> None:
    emit(app, "EUR/USD", 1.08, 1000)
    emit(app, "BTCUSDT", 65000.0, 1000, source="simulated")
    response = client.get(path)
    assert response.status_code == 200
    assert response.get_json()["symbol"] == symbol


def test_unknown_symbol_is_a_404_envelope_listing_known_symbols(client: FlaskClient) -> None:
    body = assert_envelope(client.get("/prices/XYZ/ABC"), 404, "NOT_FOUND")
    assert body["error"]["details"]["symbol"] == "XYZ/ABC"
    assert "EUR/USD" in body["error"]["details"]["known"]
    assert_envelope(client.get("/prices/history"), 404, "NOT_FOUND")


def test_known_symbol_without_a_price_yet_is_a_404(client: FlaskClient) -> None:
    body = assert_envelope(client.get("/prices/GBP/USD"), 404, "NOT_FOUND")
    assert body["error"]["details"] == {"symbol": "GBP/USD"}


def test_forex_history_path_is_not_ambiguous(app: Flask, client: FlaskClient) -> None:
    for i in range(5):
        emit(app, "EUR/USD", 1.08 + i / 1000, 1000 + i)
    emit(app, "USD/JPY", 150.0, 1000)
    feed: PriceFeed = runtime_of(app, PriceFeedRuntime).feed
    wait_for(lambda: feed.publisher.published == 6)
    for path in ("/prices/EUR/USD/history", "/prices/EURUSD/history", "/prices/eur-usd/history"):
        body = client.get(path).get_json()
        assert body["symbol"] == "EUR/USD"
        assert [r["ts"] for r in body["history"]] == [1000, 1001, 1002, 1003, 1004]
        assert body["count"] == 5
    assert client.get("/prices/USD/JPY/history").get_json()["count"] == 1


def test_history_limit_and_since(app: Flask, client: FlaskClient) -> None:
    now = int(time.time() * 1000)
    for i in range(10):
        emit(app, "EUR/GBP", 0.85, now - 10_000 + i * 1000)
    feed: PriceFeed = runtime_of(app, PriceFeedRuntime).feed
    wait_for(lambda: feed.publisher.published == 10)
    ts = [r["ts"] for r in client.get("/prices/EUR/GBP/history?limit=3").get_json()["history"]]
    assert ts == [now - 3000, now - 2000, now - 1000]  # the newest three, oldest first
    page = client.get(f"/prices/EUR/GBP/history?since={now - 10_000}&limit=4").get_json()
    assert [r["ts"] for r in page["history"]] == [now - 10_000 + i * 1000 for i in range(4)]
    assert page["since"] == now - 10_000
    cutoff_s = (now - 2500) // 1000
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(cutoff_s)) + "Z"
    recent = client.get(f"/prices/EUR/GBP/history?since={iso}").get_json()["history"]
    all_ts = [now - 10_000 + i * 1000 for i in range(10)]
    assert [r["ts"] for r in recent] == [t for t in all_ts if t >= cutoff_s * 1000]


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=1001", "limit=abc", "since=yesterday", "since=2026-01-01T00:00:00"]
)
def test_bad_history_parameters_are_400(client: FlaskClient, query: str) -> None:
    body = assert_envelope(client.get(f"/prices/EUR/USD/history?{query}"), 400, "BAD_REQUEST")
    assert body["error"]["details"]["parameter"] in ("limit", "since")


def test_history_while_redis_is_down_is_a_503_envelope(
    client: FlaskClient, redis_server: RedisServer
) -> None:
    redis_server.stop(kill=True)
    try:
        body = assert_envelope(client.get("/prices/EUR/USD/history"), 503, "DEPENDENCY_UNAVAILABLE")
        assert body["error"]["details"] == {"dependency": "redis"}
        # the one global handler of every service answers, not a copy of it in the view
        assert body["error"]["message"] == "Redis is unavailable; retry shortly"
    finally:
        redis_server.start()


def test_sources_and_unknown_route(client: FlaskClient) -> None:
    body = client.get("/sources").get_json()
    assert set(body["sources"]) == {"simulated", "forex"}
    assert body["crypto_mode"] == "simulated"
    for entry in body["sources"].values():
        for key in (
            "state",
            "connected_since",
            "messages_per_second",
            "last_message_age_seconds",
            "reconnects",
        ):
            assert key in entry
        assert entry["errors"] == 0
    assert_envelope(client.get("/nope"), 404, "NOT_FOUND")
    assert_envelope(client.delete("/prices"), 405, "METHOD_NOT_ALLOWED")
    assert_envelope(client.post("/prices"), 400, "BAD_REQUEST")  # POST ingests ticks: this one is not JSON
