"""Binance combined-stream messages -> typed market events -> price records. Pure, no I/O.

A combined stream delivers ``{"stream": "<symbol>@<kind>", "data": {...}}``. Three payloads matter
(field names as in Binance's spot WebSocket documentation):

* ``<s>@bookTicker`` — ``{"u", "s", "b", "B", "a", "A"}``: best bid/ask and their quantities;
* ``<s>@trade`` — ``{"e": "trade", "E", "s", "t", "p", "q", "T", "m", "M"}``: one trade;
* ``<s>@ticker`` — ``{"e": "24hrTicker", "E", "s", "c", "b", "a", "v", "q", ...}``: rolling 24 h.

Numbers arrive as decimal strings. Anything else (subscription acks, unknown streams, garbage)
raises :class:`BinanceMessageError` with a short ``reason`` that the client counts; none of it is
fatal. :class:`QuoteMerger` folds the events of one symbol into one record: bid/ask from the book
ticker, last price from trades, 24 h volume from the ticker.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ascep.common.events import PriceUpdate
from ascep.common.rejected import RecordRejected

#: Stream kinds this client can subscribe to (suffix after ``@``).
SUPPORTED_STREAMS: tuple[str, ...] = ("bookTicker", "trade", "ticker")

SOURCE_NAME = "binance"


class BinanceMessageError(RecordRejected):
    """A message is malformed or not one we expect; ``reason`` is a short counter label."""


@dataclass(frozen=True, slots=True)
class BookTicker:
    symbol: str
    bid: float
    bid_qty: float
    ask: float
    ask_qty: float
    update_id: int


@dataclass(frozen=True, slots=True)
class Trade:
    symbol: str
    price: float
    quantity: float
    trade_time: int
    event_time: int


@dataclass(frozen=True, slots=True)
class Ticker24h:
    symbol: str
    last: float
    bid: float
    ask: float
    volume: float
    quote_volume: float
    event_time: int


MarketEvent = BookTicker | Trade | Ticker24h


def combined_stream_url(base_url: str, symbols: Iterable[str], streams: Iterable[str]) -> str:
    """``wss://host/stream?streams=btcusdt@bookTicker/btcusdt@ticker/...``."""
    names = [f"{symbol.lower()}@{stream}" for symbol in symbols for stream in streams]
    separator = "&" if urlsplit(base_url).query else "?"
    return f"{base_url}{separator}streams={'/'.join(names)}"


def _price(data: Mapping[str, Any], key: str) -> float:
    raw = data.get(key)
    if isinstance(raw, bool) or raw is None:
        raise BinanceMessageError("bad_field", f"{key} missing")
    try:
        value = float(raw)
    except (TypeError, ValueError) as exc:
        raise BinanceMessageError("bad_field", f"{key}={raw!r}") from exc
    if not math.isfinite(value) or value < 0:
        raise BinanceMessageError("bad_field", f"{key}={raw!r}")
    return value


def _int(data: Mapping[str, Any], key: str) -> int:
    raw = data.get(key)
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise BinanceMessageError("bad_field", f"{key}={raw!r}")
    return raw


def _symbol(data: Mapping[str, Any]) -> str:
    raw = data.get("s")
    if not isinstance(raw, str) or not raw.isalnum():
        raise BinanceMessageError("bad_field", f"s={raw!r}")
    return raw.upper()


def _book(bid: float, ask: float) -> None:
    if bid <= 0 or ask <= 0 or bid > ask:
        raise BinanceMessageError("bad_book", f"bid={bid} ask={ask}")


def parse_message(raw: str | bytes) -> MarketEvent:
    """One combined-stream frame -> one market event, or :class:`BinanceMessageError`."""
    try:
        message = json.loads(raw)
    except (TypeError, ValueError, UnicodeDecodeError) as exc:
        raise BinanceMessageError("invalid_json") from exc
    if not isinstance(message, dict):
        raise BinanceMessageError("unexpected", "not a JSON object")
    stream, data = message.get("stream"), message.get("data")
    if not isinstance(stream, str) or not isinstance(data, dict):
        raise BinanceMessageError("unexpected", f"keys {sorted(message)[:5]}")
    kind = stream.rpartition("@")[2]
    if kind == "bookTicker":
        bid, ask = _price(data, "b"), _price(data, "a")
        _book(bid, ask)
        return BookTicker(_symbol(data), bid, _price(data, "B"), ask, _price(data, "A"), _int(data, "u"))
    if kind == "trade" and data.get("e") == "trade":
        price = _price(data, "p")
        if price <= 0:
            raise BinanceMessageError("bad_field", f"p={price}")
        return Trade(_symbol(data), price, _price(data, "q"), _int(data, "T"), _int(data, "E"))
    if kind == "ticker" and data.get("e") == "24hrTicker":
        bid, ask = _price(data, "b"), _price(data, "a")
        _book(bid, ask)
        return Ticker24h(
            _symbol(data), _price(data, "c"), bid, ask, _price(data, "v"), _price(data, "q"), _int(data, "E")
        )
    raise BinanceMessageError("unexpected", f"stream {stream!r}")


@dataclass(slots=True)
class _Quote:
    bid: float | None = None
    ask: float | None = None
    last: float | None = None
    volume: float | None = None


class QuoteMerger:
    """Folds book, trade and ticker events per symbol into the latest :class:`PriceUpdate`.

    ``price`` is the last trade price once one is known (trade or ticker stream), else the
    bid/ask mid — the rule documented on :class:`PriceUpdate`.
    """

    def __init__(self, source: str = SOURCE_NAME) -> None:
        self.source = source
        self._quotes: dict[str, _Quote] = {}

    def apply(self, event: MarketEvent, received_ms: int) -> PriceUpdate:
        quote = self._quotes.get(event.symbol)
        if quote is None:
            quote = self._quotes[event.symbol] = _Quote()
        if isinstance(event, BookTicker):
            quote.bid, quote.ask = event.bid, event.ask
        elif isinstance(event, Trade):
            quote.last = event.price
        else:
            quote.last, quote.volume = event.last, event.volume
            if quote.bid is None:
                quote.bid, quote.ask = event.bid, event.ask
        price = quote.last
        if price is None:
            assert quote.bid is not None
            assert quote.ask is not None
            price = (quote.bid + quote.ask) / 2
        return PriceUpdate(event.symbol, price, quote.bid, quote.ask, quote.volume, self.source, received_ms)

    def forget(self) -> None:
        """Drop merged state (after a reconnect the old book may be stale)."""
        self._quotes.clear()
