"""What Socket.IO clients may send, validated into typed subscriptions (pure, no I/O).

The contract is strict on purpose: an unknown key or a wrong type is answered with an ``error``
event naming the field, so a client bug shows up at once instead of as silently missing data.

Which protocol a client speaks is said once, in the handshake (:func:`parse_protocol`):

* **1, the original ASCEP protocol** (the default: an original client sends nothing, and must
  keep working unchanged): every ``price_update`` and every ``arbitrage_signal`` goes to every
  client from the moment it connects, as the original gateway did; ``subscribe_*`` only
  acknowledge (and send a price snapshot), they do not narrow delivery.
* **2, subscriptions**: nothing until the client subscribes, then only what it subscribed to
  (symbols, signal filters, batches). ASCEP's own dashboard says so explicitly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ascep.common.events import ArbitrageSignal, EventFormatError

SIGNAL_TYPES = frozenset({"direct", "triangular", "cycle"})
_SYMBOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/._-]{0,31}$")

# JSON Schemas of what clients send, next to the parsers that enforce them (the AsyncAPI document
# of ``/api/asyncapi.json`` shows these); the symbol limit is a setting, given at build time.


def price_subscription_schema(max_symbols: int) -> dict[str, Any]:
    return {
        "type": ["object", "null"],
        "additionalProperties": False,
        "properties": {
            "symbols": {
                "type": "array",
                "minItems": 1,
                "maxItems": max_symbols,
                "items": {"type": "string", "pattern": _SYMBOL.pattern},
                "description": "omit for every symbol; EURUSD finds EUR/USD",
            },
            "batch": {
                "type": "boolean",
                "default": False,
                "description": "price_batch instead of price_update",
            },
        },
    }


SIGNAL_FILTER_SCHEMA: dict[str, Any] = {
    "type": ["object", "null"],
    "additionalProperties": False,
    "properties": {
        "types": {"type": "array", "minItems": 1, "items": {"enum": sorted(SIGNAL_TYPES)}},
        "min_spread_percentage": {"type": "number", "minimum": 0, "description": "compared with the peak"},
    },
}
EMPTY_SCHEMA: dict[str, Any] = {"type": ["object", "null"], "maxProperties": 0}
#: The original ASCEP protocol: everything to everyone, subscriptions only acknowledged.
PROTOCOL_ORIGINAL = 1
#: Per-subscription delivery.
PROTOCOL_SUBSCRIPTIONS = 2
PROTOCOLS = (PROTOCOL_ORIGINAL, PROTOCOL_SUBSCRIPTIONS)
#: What a client that says nothing speaks: the original clients say nothing.
DEFAULT_PROTOCOL = PROTOCOL_ORIGINAL


def _protocol_value(raw: Any, where: str) -> int:
    if isinstance(raw, bool) or raw not in (*PROTOCOLS, *(str(p) for p in PROTOCOLS)):
        raise EventFormatError(
            where, f"must be 1 (the original ASCEP protocol) or 2 (subscriptions), got {str(raw)[:20]!r}"
        )
    return int(raw)


def parse_protocol(auth: Any, query: str | None) -> int:
    """The protocol a connecting client speaks: ``auth={"protocol": 2}`` or ``?protocol=2``.

    ``auth`` that is not an object is left to whoever reads it (authentication); both ways
    naming different protocols is an error, as is an unknown one.
    """
    from_auth = auth.get("protocol") if isinstance(auth, Mapping) else None
    chosen = [_protocol_value(from_auth, "auth.protocol")] if from_auth is not None else []
    if query is not None:
        chosen.append(_protocol_value(query, "query.protocol"))
    if len(set(chosen)) > 1:
        raise EventFormatError("protocol", "auth.protocol and the protocol query parameter disagree")
    return chosen[0] if chosen else DEFAULT_PROTOCOL


@dataclass(frozen=True)
class PriceSubscription:
    """``symbols`` None means every symbol; ``batch`` selects ``price_batch`` delivery."""

    symbols: frozenset[str] | None
    batch: bool

    def wants(self, symbol: str) -> bool:
        return self.symbols is None or symbol in self.symbols

    def describe(self) -> dict[str, Any]:
        return {
            "stream": "prices",
            "subscribed": True,
            "symbols": sorted(self.symbols) if self.symbols is not None else None,
            "batch": self.batch,
        }


@dataclass(frozen=True)
class SignalFilter:
    """Which arbitrage signals a client wants (None: no restriction)."""

    types: frozenset[str] | None
    min_spread_percentage: float | None

    def matches(self, signal: Mapping[str, Any]) -> bool:
        """Type and spread filter; the spread is the signal's *peak*, so a client that saw a signal
        open also sees its updates and its close even after the spread fell below its minimum."""
        kind, spread = ArbitrageSignal.route(signal)
        if self.types is not None and kind not in self.types:
            return False
        return self.min_spread_percentage is None or (
            spread is not None and spread >= self.min_spread_percentage
        )

    @property
    def key(self) -> str:
        """Canonical text of the filter: clients with equal filters share one room."""
        types = ",".join(sorted(self.types)) if self.types is not None else "*"
        spread = repr(self.min_spread_percentage) if self.min_spread_percentage is not None else "*"
        return f"{types}|{spread}"

    def describe(self) -> dict[str, Any]:
        return {
            "stream": "signals",
            "subscribed": True,
            "filters": {
                "types": sorted(self.types) if self.types is not None else None,
                "min_spread_percentage": self.min_spread_percentage,
            },
        }


def _object(payload: Any, allowed: set[str]) -> Mapping[str, Any]:
    if payload is None:
        return {}
    if not isinstance(payload, Mapping):
        raise EventFormatError("$", "must be an object")
    unknown = sorted(set(payload) - allowed)
    if unknown:
        raise EventFormatError(unknown[0], f"unknown field (allowed: {', '.join(sorted(allowed))})")
    return payload


def parse_price_subscription(payload: Any, max_symbols: int) -> PriceSubscription:
    """``max_symbols`` bounds the rooms one client joins (a new subscription replaces the old)."""
    data = _object(payload, {"symbols", "batch"})
    batch = data.get("batch", False)
    if not isinstance(batch, bool):
        raise EventFormatError("batch", "must be true or false")
    raw = data.get("symbols")
    if raw is None:
        return PriceSubscription(None, batch)
    if not isinstance(raw, list) or not raw:
        raise EventFormatError("symbols", "must be a non-empty list of symbols (omit it for all)")
    if len(raw) > max_symbols:
        raise EventFormatError("symbols", f"at most {max_symbols} symbols")
    symbols = set()
    for index, symbol in enumerate(raw):
        if not isinstance(symbol, str) or not _SYMBOL.match(symbol):
            raise EventFormatError(f"symbols[{index}]", "must be a symbol such as 'BTCUSDT' or 'EUR/USD'")
        symbols.add(symbol.upper())
    return PriceSubscription(frozenset(symbols), batch)


def parse_signal_filter(payload: Any) -> SignalFilter:
    data = _object(payload, {"types", "min_spread_percentage"})
    types = data.get("types")
    if types is not None:
        if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
            raise EventFormatError("types", f"must be a non-empty list from {sorted(SIGNAL_TYPES)}")
        unknown = sorted(set(types) - SIGNAL_TYPES)
        if unknown:
            raise EventFormatError("types", f"unknown signal type {unknown[0]!r}")
        types = frozenset(types)
    spread = data.get("min_spread_percentage")
    if spread is not None:
        if isinstance(spread, bool) or not isinstance(spread, int | float) or not math.isfinite(spread):
            raise EventFormatError("min_spread_percentage", "must be a number")
        if spread < 0:
            raise EventFormatError("min_spread_percentage", "must not be negative")
        spread = float(spread)
    return SignalFilter(types, spread)


def parse_empty(payload: Any) -> None:
    """Unsubscribe and alert events take no options; anything but nothing/{} is an error."""
    _object(payload, set())
