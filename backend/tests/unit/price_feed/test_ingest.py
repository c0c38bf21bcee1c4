"""Pushed ticks (POST /prices): shapes, normalisation, and everything hostile a pusher can send."""

from __future__ import annotations

from typing import Any

import pytest

from ascep.common.events import PriceUpdate
from ascep.common.symbols import SymbolIndex, crypto_pair, forex_pair
from ascep.price_feed.ingest import IngestOptions, PushSources, TickError

NOW = 1_800_000_000_000
INDEX = SymbolIndex([crypto_pair("BTCUSDT"), crypto_pair("ETHUSDT"), forex_pair("EUR/USD")])


def sources(**options: Any) -> tuple[PushSources, list[PriceUpdate]]:
    emitted: list[PriceUpdate] = []
    return PushSources(INDEX, IngestOptions(**options), lambda r, _ns: emitted.append(r)), emitted


def parse(body: Any, **options: Any) -> list[PriceUpdate]:
    push, _ = sources(**options)
    return push.parse(body, NOW)[0]


def test_the_original_single_shape_becomes_a_record() -> None:
    [record] = parse(
        {"symbol": "BTC/USDT", "price": 45000.5, "timestamp": "2027-01-15T07:00:00", "type": "price_update"}
    )
    assert record == PriceUpdate(
        "BTCUSDT", 45000.5, None, None, None, "external", NOW - 3_600_000
    )  # naive = UTC


@pytest.mark.parametrize(
    "body",
    [
        {"prices": [{"symbol": "eurusd", "price": 1.1}, {"symbol": "ETHUSDT", "price": 3000.0}]},
        [{"symbol": "eurusd", "price": 1.1}, {"symbol": "ETHUSDT", "price": 3000.0}],
    ],
)
def test_batches_come_as_prices_or_a_bare_list(body: Any) -> None:
    push, _ = sources()
    records, batch = push.parse(body, NOW)
    assert batch
    assert [(r.symbol, r.ts) for r in records] == [("EUR/USD", NOW), ("ETHUSDT", NOW)]


def test_bid_and_ask_give_the_mid_when_price_is_missing_and_ts_is_kept() -> None:
    [record] = parse(
        {"symbol": "EUR/USD", "bid": 1.1, "ask": 1.1002, "volume": 0, "source": "lp-1", "ts": NOW - 5}
    )
    assert (record.price, record.ts, record.source, record.volume) == (
        pytest.approx(1.1001),
        NOW - 5,
        "lp-1",
        0.0,
    )


def test_a_time_slightly_ahead_is_taken_as_now() -> None:
    assert parse({"symbol": "BTCUSDT", "price": 1.0, "ts": NOW + 4000})[0].ts == NOW


@pytest.mark.parametrize(
    ("body", "path", "reason"),
    [
        ("BTCUSDT", "$", "expected a tick"),
        (None, "$", "expected a tick"),
        ({"prices": "BTC"}, "$.prices", "must be a list"),
        ({"prices": []}, "$.prices", "is empty"),
        ([1], "$[0]", "must be an object"),
        ({"price": 1}, "$.symbol", "must be a symbol"),
        ({"symbol": ["BTCUSDT"], "price": 1}, "$.symbol", "must be a symbol"),
        ({"symbol": "X" * 33, "price": 1}, "$.symbol", "must be a symbol"),
        ({"symbol": "USD/EUR", "price": 1}, "$.symbol", "unknown symbol 'USD/EUR'"),
        ({"symbol": "BTCUSDT"}, "$.price", "is required"),
        ({"symbol": "BTCUSDT", "price": "45000"}, "$.price", "finite number"),
        ({"symbol": "BTCUSDT", "price": True}, "$.price", "finite number"),
        ({"symbol": "BTCUSDT", "price": 0}, "$.price", "must be positive"),
        ({"symbol": "BTCUSDT", "price": -1}, "$.price", "must be positive"),
        ({"symbol": "BTCUSDT", "price": 1e400}, "$.price", "finite number"),
        ({"symbol": "BTCUSDT", "price": 1, "volume": -1}, "$.volume", "must not be negative"),
        ({"symbol": "BTCUSDT", "bid": 2, "ask": 1}, "$.bid", "is above ask"),
        ({"symbol": "BTCUSDT", "price": 1, "source": "binance"}, "$.source", "the feed's own sources"),
        ({"symbol": "BTCUSDT", "price": 1, "source": "Robert'); DROP"}, "$.source", "lower-case name"),
        ({"symbol": "BTCUSDT", "price": 1, "source": 7}, "$.source", "lower-case name"),
        ({"symbol": "BTCUSDT", "price": 1, "type": "trade"}, "$.type", "price_update"),
        ({"symbol": "BTCUSDT", "price": 1, "ts": "now"}, "$.ts", "epoch milliseconds"),
        ({"symbol": "BTCUSDT", "price": 1, "ts": -5}, "$.ts", "after 1970"),
        ({"symbol": "BTCUSDT", "price": 1, "ts": NOW + 60_000}, "$.ts", "60.0s in the future"),
        ({"symbol": "BTCUSDT", "price": 1, "timestamp": "yesterday"}, "$.timestamp", "ISO 8601"),
        ({"symbol": "BTCUSDT", "price": 1, "timestamp": 5}, "$.timestamp", "ISO 8601"),
        (
            {"prices": [{"symbol": "BTCUSDT", "price": 1}, {"symbol": "BTCUSDT"}]},
            "$.prices[1].price",
            "required",
        ),
    ],
)
def test_bad_ticks_name_the_field_and_publish_nothing(body: Any, path: str, reason: str) -> None:
    push, emitted = sources()
    with pytest.raises(TickError) as caught:
        push.parse(body, NOW)
    assert (caught.value.path, reason in caught.value.reason) == (path, True), caught.value
    assert emitted == []
    assert push.report()["rejected_requests"] == 1


def test_batches_are_bounded() -> None:
    with pytest.raises(TickError) as caught:
        parse([{"symbol": "BTCUSDT", "price": 1.0}] * 4, max_batch=3)
    assert caught.value.details == {"limit": 3}


def test_the_number_of_push_sources_is_bounded() -> None:
    push, _ = sources(max_sources=2)
    for name in ("a", "b"):
        push.publish(push.parse({"symbol": "BTCUSDT", "price": 1.0, "source": name}, NOW)[0], 0)
    push.parse({"symbol": "BTCUSDT", "price": 1.0, "source": "a"}, NOW)  # a known one is fine
    with pytest.raises(TickError) as caught:
        push.parse({"symbol": "BTCUSDT", "price": 1.0, "source": "c"}, NOW)
    assert "at most 2 push sources" in caught.value.reason


def test_a_tick_older_than_its_sources_last_is_skipped_and_counted() -> None:
    push, emitted = sources()
    body = [
        {"symbol": "BTCUSDT", "price": p, "ts": ts}
        for p, ts in ((1.0, NOW - 10), (2.0, NOW - 20), (3.0, NOW))
    ]
    done = push.publish(push.parse(body, NOW)[0], 0)
    assert ([r.price for r in done.published], done.stale) == ([1.0, 3.0], 1)
    assert [r.price for r in emitted] == [1.0, 3.0]
    other = push.publish(
        push.parse({"symbol": "BTCUSDT", "price": 4.0, "ts": NOW - 20, "source": "b"}, NOW)[0], 0
    )
    assert other.stale == 0  # order is per source
    status = push.snapshots()["external"]
    assert (status["published"], status["errors_by_kind"], status["state"], status["kind"]) == (
        2, {"stale": 1}, "receiving", "push",
    )  # fmt: skip
