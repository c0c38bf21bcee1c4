"""JSON Schemas of the price feed's answers (its OpenAPI document is built from these)."""

from __future__ import annotations

from ascep.common.event_schemas import event_schema
from ascep.common.events import PriceUpdate
from ascep.common.openapi import Component
from ascep.common.openapi.schemas import INTEGER, NUMBER, OBJECT, STRING, TIMESTAMP, array, nullable, obj

#: A stored or live quote: exactly what the ``price_update`` event carries.
PRICE = Component("PriceUpdate", event_schema(PriceUpdate))

ALL_PRICES = obj(
    {
        "prices": {"type": "object", "additionalProperties": PRICE, "description": "by symbol"},
        "timestamp": TIMESTAMP,
        "total_pairs": INTEGER,
    }
)

HISTORY = obj(
    {
        "symbol": STRING,
        "history": array(PRICE),
        "count": INTEGER,
        "limit": INTEGER,
        "since": nullable({**INTEGER, "description": "epoch ms, as given"}),
    }
)

_SOURCE = obj(
    {
        "state": STRING,
        "connected_since": nullable(TIMESTAMP),
        "messages_per_second": NUMBER,
        "last_message_age_seconds": nullable(NUMBER),
        "messages": INTEGER,
        "published": INTEGER,
        "reconnects": INTEGER,
        "errors": INTEGER,
        "errors_by_kind": OBJECT,
        "last_error": nullable(STRING),
    }
)

SOURCES = obj(
    {
        "sources": {"type": "object", "additionalProperties": _SOURCE},
        "crypto_mode": nullable(STRING),
        "active_crypto_source": nullable(STRING),
        "timestamp": TIMESTAMP,
    }
)

_POSITIVE = {"type": "number", "exclusiveMinimum": 0}
#: One pushed tick, as :func:`ascep.price_feed.ingest.parse_tick` accepts it (it names the field
#: it refuses, with the rules this schema cannot say: a known symbol, bid <= ask, the clock skew).
PUSHED_TICK = obj(
    {
        "symbol": {"type": "string", "minLength": 1, "maxLength": 32, "description": "BTCUSDT or BTC/USDT"},
        "price": {**_POSITIVE, "description": "required unless both bid and ask are given"},
        "bid": _POSITIVE,
        "ask": _POSITIVE,
        "volume": {"type": "number", "minimum": 0},
        "source": {"type": "string", "pattern": "^[a-z][a-z0-9_.-]{0,31}$", "default": "external"},
        "ts": {"type": "integer", "minimum": 1, "description": "epoch ms"},
        "timestamp": {"type": "string", "maxLength": 64, "description": "ISO 8601 (UTC without a zone)"},
        "type": {"enum": ["price_update"]},
    },
    required=["symbol"],
)
PUSH_BODY = {
    "oneOf": [
        PUSHED_TICK,
        obj({"prices": {"type": "array", "minItems": 1, "items": PUSHED_TICK}}),
        {"type": "array", "minItems": 1, "items": PUSHED_TICK},
    ]
}
PUSH_RESULT = obj(
    {
        "status": {"enum": ["success"]},
        "message": STRING,
        "accepted": INTEGER,
        "skipped_stale": INTEGER,
        "prices": array(PRICE),
    }
)
