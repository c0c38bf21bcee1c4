"""HTTP API of the price feed. Thin: parsing, lookups in the feed, the error envelope.

Symbols appear in paths, and forex symbols contain a slash, so ``/prices/<path>`` is parsed by
hand: a trailing ``/history`` segment selects the history view, everything before it is the
symbol. ``/prices/EUR/USD``, ``/prices/EURUSD``, ``/prices/eur-usd``, ``/prices/EUR%2FUSD`` and
``/prices/EUR/USD/history`` all work; no instrument is called ``history``, so this is never
ambiguous.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, jsonify

from ascep.common.errors import NotFound, ValidationFailed
from ascep.common.lifecycle import current_runtime
from ascep.common.openapi import Body, doc
from ascep.common.openapi.params import int_param, path_param, time_param
from ascep.common.price_history import DEFAULT_LIMIT, MAX_LIMIT, read_history
from ascep.common.symbols import Pair
from ascep.common.timeutil import iso_utc, now_ms
from ascep.common.web import json_body
from ascep.price_feed.api_schemas import ALL_PRICES, HISTORY, PRICE, PUSH_BODY, PUSH_RESULT, SOURCES
from ascep.price_feed.feed import PriceFeed
from ascep.price_feed.ingest import TickError
from ascep.price_feed.runtime import PriceFeedRuntime

prices_blueprint = Blueprint("prices", __name__)

HISTORY_SUFFIX = "/history"

_SYMBOL = path_param(
    "symbol",
    "BTCUSDT, EUR/USD (as EURUSD, eur-usd or EUR%2FUSD), case-insensitive",
    {"type": "string", "minLength": 1, "maxLength": 40},
    example="BTCUSDT",
)
_LIMIT = int_param("limit", DEFAULT_LIMIT, 1, MAX_LIMIT, "Most records to return (the newest).")
_SINCE = time_param("since", "Only records at or after this time.")


def _feed() -> PriceFeed:
    return current_runtime(PriceFeedRuntime).feed


def _resolve(raw: str) -> Pair:
    index = _feed().push.index  # every configured instrument, pushed ones included
    pair = index.resolve(raw)
    if pair is None:
        raise NotFound(f"unknown symbol {raw!r}", {"symbol": raw, "known": index.symbols()})
    return pair


@prices_blueprint.get("/prices")
@doc("Latest price of every instrument", ok=ALL_PRICES)
def all_prices() -> Response:
    latest = _feed().latest
    prices = {symbol: latest[symbol].to_dict() for symbol in sorted(list(latest))}
    return jsonify({"prices": prices, "timestamp": iso_utc(), "total_pairs": len(prices)})


@prices_blueprint.post("/prices")
@doc(
    "Push ticks from outside (one, {prices: [...]} or a list): published like any source",
    body=Body(PUSH_BODY),
    ok=PUSH_RESULT,
    errors={422: "A tick is invalid (details.path names it); nothing was published"},
)
def push_prices() -> Response:
    """Ingest ticks pushed by a client (one, ``{"prices": [...]}`` or a list): see :mod:`.ingest`."""
    received_ns = time.monotonic_ns()
    body = json_body()
    push = _feed().push
    try:
        records, batch = push.parse(body, now_ms())
    except TickError as exc:
        raise ValidationFailed(f"invalid price update: {exc}", {"path": exc.path, **exc.details}) from exc
    done = push.publish(records, received_ns)
    count = len(done.published)
    message = "Price update received" if not batch else f"{count} price updates received"
    return jsonify(
        {
            "status": "success",
            "message": message,
            "accepted": count,
            "skipped_stale": done.stale,
            "prices": [record.to_dict() for record in done.published],
        }
    )


@prices_blueprint.get("/prices/<path:rest>")
@doc(
    "Latest price of one instrument",
    path="/prices/{symbol}",
    params={"symbol": _SYMBOL},
    ok=PRICE,
    errors={404: "Unknown symbol (details list the known ones), or no price yet"},
)
@doc(
    "Stored price history of one instrument, oldest first",
    path="/prices/{symbol}/history",
    params={"symbol": _SYMBOL},
    query=(_LIMIT, _SINCE),
    ok=HISTORY,
    errors={404: "Unknown symbol (details list the known ones)"},
)
def one_symbol(rest: str) -> Response:
    rest = rest.strip("/")
    if rest.lower().endswith(HISTORY_SUFFIX):
        return _history(rest[: -len(HISTORY_SUFFIX)])
    pair = _resolve(rest)
    record = _feed().latest.get(pair.symbol)
    if record is None:
        raise NotFound(f"no price for {pair.symbol} yet", {"symbol": pair.symbol})
    return jsonify(record.to_dict())


def _history(raw_symbol: str) -> Response:
    pair = _resolve(raw_symbol)
    limit, since = _LIMIT.read(), _SINCE.read()
    records = read_history(current_runtime(PriceFeedRuntime).reader, pair.symbol, limit, since)
    body: dict[str, Any] = {
        "symbol": pair.symbol,
        "history": records,
        "count": len(records),
        "limit": limit,
        "since": since,
    }
    return jsonify(body)


@prices_blueprint.get("/sources")
@doc("Status of every price source (connection, rates, errors, injected mispricing)", ok=SOURCES)
def sources() -> Response:
    return jsonify(_feed().sources_report())
