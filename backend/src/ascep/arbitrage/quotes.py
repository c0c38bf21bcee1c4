"""Quotes as the detector sees them: one instrument on one venue, with its best bid and ask.

Records arrive from the price channel as JSON objects (``PriceUpdate.to_dict()`` plus optional
top-of-book sizes). Only what detection needs is kept, and anything a trader could not execute
against is refused here, once, so the graph never has to wonder: a missing side, a non-positive
price, a crossed book (bid > ask on one venue is bad data, not free money).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ascep.common.rejected import RecordRejected
from ascep.common.symbols import SymbolError, crypto_pair


class QuoteRejected(RecordRejected):
    """A record cannot be used as a quote; ``reason`` is a short counter-friendly label."""


@dataclass(frozen=True, slots=True)
class Quote:
    """Best bid/ask of ``base``/``quote`` on ``source`` at ``ts`` (epoch ms, UTC by definition)."""

    symbol: str
    base: str
    quote: str
    bid: float
    ask: float
    source: str
    ts: int
    bid_size: float | None = None
    ask_size: float | None = None


@lru_cache(maxsize=4096)
def split_symbol(symbol: str) -> tuple[str, str]:
    """``EUR/USD`` -> (EUR, USD); ``BTCUSDT`` -> (BTC, USDT) by the known quote assets.

    Cached: the same few hundred symbols arrive thousands of times a second.
    """
    if "/" in symbol:
        base, _, quote = symbol.partition("/")
        if base and quote and base != quote and "/" not in quote:
            return base.upper(), quote.upper()
        raise QuoteRejected("bad_symbol", symbol)
    try:
        pair = crypto_pair(symbol)
    except SymbolError as exc:
        raise QuoteRejected("bad_symbol", symbol) from exc
    return pair.base, pair.quote


def _positive(record: Mapping[str, Any], *names: str) -> float | None:
    for name in names:
        value = record.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise QuoteRejected("malformed", f"{name} must be a number")
        number = float(value)
        if not math.isfinite(number) or number <= 0:
            raise QuoteRejected("non_positive", f"{name}={value!r}")
        return number
    return None


def quote_from_record(record: Mapping[str, Any]) -> Quote:
    """Build a :class:`Quote` from a ``price_update`` record or raise :class:`QuoteRejected`."""
    symbol = record.get("symbol")
    source = record.get("source")
    ts = record.get("ts")
    if not isinstance(symbol, str) or not symbol or not isinstance(source, str) or not source:
        raise QuoteRejected("malformed", "symbol and source must be non-empty strings")
    if isinstance(ts, bool) or not isinstance(ts, int | float) or not math.isfinite(ts):
        raise QuoteRejected("malformed", "ts must be epoch milliseconds")
    bid = _positive(record, "bid")
    ask = _positive(record, "ask")
    if bid is None or ask is None:
        raise QuoteRejected("no_book", symbol)
    if bid > ask:
        raise QuoteRejected("crossed", f"{symbol} bid {bid} > ask {ask}")
    base, quote = split_symbol(symbol)
    return Quote(
        symbol=symbol,
        base=base,
        quote=quote,
        bid=bid,
        ask=ask,
        source=source,
        ts=int(ts),
        bid_size=_positive(record, "bid_size", "bid_qty"),
        ask_size=_positive(record, "ask_size", "ask_qty"),
    )
