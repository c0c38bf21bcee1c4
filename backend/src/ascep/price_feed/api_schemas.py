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
