"""Parsing Binance combined-stream frames: the documented payloads, field by field."""

from __future__ import annotations

import json

import pytest

from ascep.price_feed.binance_protocol import (
    BinanceMessageError,
    BookTicker,
    QuoteMerger,
    Ticker24h,
    Trade,
    combined_stream_url,
    parse_message,
)

# Payloads exactly as in Binance's spot WebSocket documentation.
BOOK_TICKER = {
    "u": 400900217,
    "s": "BNBUSDT",
    "b": "25.35190000",
    "B": "31.21000000",
    "a": "25.36520000",
    "A": "40.66000000",
}
TRADE = {
    "e": "trade",
    "E": 1672515782136,
    "s": "BNBBTC",
    "t": 12345,
    "p": "0.001",
    "q": "100",
    "T": 1672515782136,
    "m": True,
    "M": True,
}
TICKER = {
    "e": "24hrTicker", "E": 1672515782136, "s": "BNBBTC", "p": "0.0015", "P": "250.00", "w": "0.0018",
    "x": "0.0009", "c": "0.0025", "Q": "10", "b": "0.0024", "B": "10", "a": "0.0026", "A": "100",
    "o": "0.0010", "h": "0.0025", "l": "0.0010", "v": "10000", "q": "18", "O": 0, "C": 86400000,
    "F": 0, "L": 18150, "n": 18151,
}  # fmt: skip


def frame(stream: str, data: object) -> str:
    return json.dumps({"stream": stream, "data": data})


def test_book_ticker_every_field() -> None:
    event = parse_message(frame("bnbusdt@bookTicker", BOOK_TICKER))
    assert event == BookTicker("BNBUSDT", 25.3519, 31.21, 25.3652, 40.66, 400900217)


def test_trade_every_field() -> None:
    event = parse_message(frame("bnbbtc@trade", TRADE).encode())
    assert event == Trade("BNBBTC", 0.001, 100.0, 1672515782136, 1672515782136)


def test_24h_ticker_every_field() -> None:
    event = parse_message(frame("bnbbtc@ticker", TICKER))
    assert event == Ticker24h("BNBBTC", 0.0025, 0.0024, 0.0026, 10000.0, 18.0, 1672515782136)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("this is {not json", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        ("[1, 2]", "unexpected"),
        ('{"result": null, "id": 1}', "unexpected"),
        (frame("bnbusdt@depth", {"e": "depthUpdate"}), "unexpected"),
        (frame("bnbusdt@trade", {**TRADE, "e": "aggTrade"}), "unexpected"),
        (frame("bnbusdt@bookTicker", {**BOOK_TICKER, "b": "abc"}), "bad_field"),
        (frame("bnbusdt@bookTicker", {**BOOK_TICKER, "b": "NaN"}), "bad_field"),
        (frame("bnbusdt@bookTicker", {k: v for k, v in BOOK_TICKER.items() if k != "a"}), "bad_field"),
        (frame("bnbusdt@bookTicker", {**BOOK_TICKER, "b": "30"}), "bad_book"),
        (frame("bnbusdt@bookTicker", {**BOOK_TICKER, "b": "0"}), "bad_book"),
        (frame("bnbusdt@bookTicker", {**BOOK_TICKER, "u": "1"}), "bad_field"),
        (frame("bnbusdt@bookTicker", {**BOOK_TICKER, "s": "BNB USDT"}), "bad_field"),
        (frame("bnbbtc@trade", {**TRADE, "p": "0"}), "bad_field"),
        (frame("bnbbtc@trade", {**TRADE, "E": True}), "bad_field"),
        (frame("bnbbtc@ticker", {**TICKER, "v": "-1"}), "bad_field"),
    ],
)
def test_malformed_or_unexpected_messages_raise_a_counted_reason(raw: str | bytes, reason: str) -> None:
    with pytest.raises(BinanceMessageError) as info:
        parse_message(raw)
    assert info.value.reason == reason


def test_combined_stream_url_lists_every_symbol_and_stream() -> None:
    url = combined_stream_url(
        "wss://stream.binance.com:9443/stream", ["BTCUSDT", "ETHBTC"], ["bookTicker", "trade"]
    )
    assert url == (
        "wss://stream.binance.com:9443/stream?streams="
        "btcusdt@bookTicker/btcusdt@trade/ethbtc@bookTicker/ethbtc@trade"
    )
    assert combined_stream_url("ws://h/stream?x=1", ["A"], ["ticker"]).endswith("?x=1&streams=a@ticker")


def test_merger_price_is_mid_until_a_trade_then_last_trade() -> None:
    merger = QuoteMerger()
    first = merger.apply(BookTicker("BTCUSDT", bid=100.0, bid_qty=1, ask=102.0, ask_qty=1, update_id=1), 1000)
    assert (first.price, first.bid, first.ask, first.volume, first.source, first.ts) == (
        101.0, 100.0, 102.0, None, "binance", 1000,
    )  # fmt: skip
    traded = merger.apply(Trade("BTCUSDT", 101.5, 1, 0, 0), 1001)
    assert (traded.price, traded.bid, traded.ask) == (101.5, 100.0, 102.0)
    ticked = merger.apply(Ticker24h("BTCUSDT", 101.7, 90.0, 110.0, 5000.0, 1.0, 0), 1002)
    # The book ticker is fresher than the ticker's bid/ask: keep it; take last price and volume.
    assert (ticked.price, ticked.bid, ticked.ask, ticked.volume) == (101.7, 100.0, 102.0, 5000.0)


def test_merger_ticker_alone_gives_a_full_record_and_forget_clears_state() -> None:
    merger = QuoteMerger()
    record = merger.apply(Ticker24h("ETHBTC", 0.05, 0.049, 0.051, 10.0, 0.5, 0), 5)
    assert (record.price, record.bid, record.ask, record.volume) == (0.05, 0.049, 0.051, 10.0)
    merger.forget()
    again = merger.apply(BookTicker("ETHBTC", bid=0.04, bid_qty=1, ask=0.06, ask_qty=1, update_id=2), 6)
    assert (again.price, again.volume) == (pytest.approx(0.05), None)  # mid: the old last is gone
