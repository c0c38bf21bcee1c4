"""Shapes of the events on the Redis bus, defined once for every producer and consumer.

Producers build these frozen dataclasses and publish ``to_dict()`` as JSON on the channel named
in :mod:`ascep.common.channels`; consumers parse with ``from_dict()``, which names the offending
field when a payload is malformed. Times travel as epoch milliseconds (``ts``) with an ISO 8601
UTC rendering (``timestamp``) for humans.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ascep.common.timeutil import iso_utc


class EventFormatError(ValueError):
    """A payload does not have the documented shape; ``field`` names what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _number(data: Mapping[str, Any], name: str, *, required: bool = True) -> float | None:
    value = data.get(name)
    if value is None:
        if required:
            raise EventFormatError(name, "is required")
        return None
    if isinstance(value, bool):
        raise EventFormatError(name, "must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise EventFormatError(name, "must be a number") from exc
    if not math.isfinite(number):
        raise EventFormatError(name, "must be finite")
    return number


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise EventFormatError(name, "must be a non-empty string")
    return value


@dataclass(frozen=True, slots=True)
class PriceUpdate:
    """Latest quote of one instrument (Socket.IO ``price_update``, channel ``price_updates``).

    ``price`` is the last trade when the source reports trades, else the bid/ask mid.
    """

    symbol: str
    price: float
    bid: float | None
    ask: float | None
    volume: float | None
    source: str
    ts: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "price": self.price,
            "bid": self.bid,
            "ask": self.ask,
            "volume": self.volume,
            "source": self.source,
            "timestamp": iso_utc(self.ts),
            "ts": self.ts,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceUpdate:
        price = _number(data, "price")
        ts = _number(data, "ts")
        assert price is not None
        assert ts is not None
        return cls(
            symbol=_text(data, "symbol"),
            price=price,
            bid=_number(data, "bid", required=False),
            ask=_number(data, "ask", required=False),
            volume=_number(data, "volume", required=False),
            source=_text(data, "source"),
            ts=int(ts),
        )


def encode(payload: Mapping[str, Any]) -> str:
    """Compact JSON for the bus."""
    return json.dumps(payload, separators=(",", ":"))


def decode(raw: str | bytes) -> dict[str, Any]:
    """Parse one bus message; raise :class:`EventFormatError` unless it is a JSON object."""
    try:
        value = json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise EventFormatError("$", "not valid JSON") from exc
    if not isinstance(value, dict):
        raise EventFormatError("$", "must be a JSON object")
    return value
