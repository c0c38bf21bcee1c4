"""Ticks pushed over HTTP (``POST /prices``): validated, normalised, then published like any source.

The original ASCEP gateway took ``POST /api/prices`` (``{"symbol", "price", "timestamp"}``) and
did nothing with it; here a pushed tick becomes a real record: the symbol resolved to the feed's
spelling (``BTC/USDT`` → ``BTCUSDT``), the time taken from ``ts`` (epoch ms) or ``timestamp``
(ISO 8601; without a zone it is UTC, as the original sent it) or the arrival, and it goes through
:meth:`ascep.price_feed.feed.PriceFeed.emit` — latest prices, history, ``price_updates`` — so the
gateway, the arbitrage detector and the CEP engine see it as they see Binance.

What keeps a pusher from hurting the platform, each with a setting:

* a batch holds at most ``PRICE_INGEST_MAX_BATCH`` ticks, and one bad tick refuses the batch
  (422 naming ``$.prices[i].field``; nothing published);
* only the feed's instruments (``CRYPTO_SYMBOLS``, ``FOREX_SYMBOLS``) are accepted: every
  consumer keys state by symbol, and an unbounded set of pushed names would grow it without end;
* ``source`` names a pusher (default ``external``), never one of the feed's own sources, and at
  most ``PRICE_INGEST_MAX_SOURCES`` distinct names exist (each is listed in ``/sources``);
* a time more than ``PRICE_INGEST_MAX_CLOCK_SKEW_S`` ahead is refused, and one within it is taken
  as now: the gateway drops any update older than the newest it has seen for a symbol, so a tick
  from the future would silence that symbol until the clock caught up;
* a tick older than the last one accepted from the same source for the same symbol is skipped
  (counted, reported): every consumer assumes a source's ticks arrive in order.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ascep.common.events import PriceUpdate
from ascep.common.symbols import SymbolIndex
from ascep.price_feed.source_status import SourceStatus

#: The feed's own sources: a pusher may not speak in their name.
RESERVED_SOURCES = frozenset({"binance", "simulated", "forex"})
DEFAULT_SOURCE = "external"
_SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,31}$")
MAX_SYMBOL_LENGTH = 32
_NUMBERS = ("price", "bid", "ask", "volume")


class TickError(ValueError):
    """One pushed tick (or the body) is unusable: ``path`` names where, ``reason`` why."""

    def __init__(self, path: str, reason: str, **details: Any) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.details = details


@dataclass(frozen=True)
class IngestOptions:
    max_batch: int = 1000
    max_sources: int = 16
    max_clock_skew_ms: int = 5000


def ticks_of(body: Any, max_batch: int) -> tuple[list[tuple[str, Any]], bool]:
    """``(path, item)`` of every tick in ``body``, and whether it was a batch.

    A body is one tick (an object with ``symbol``), ``{"prices": [ticks]}``, or a bare list.
    """
    if isinstance(body, Mapping) and "prices" in body and "symbol" not in body:
        items, base = body["prices"], "$.prices"
    elif isinstance(body, list):
        items, base = body, "$"
    elif isinstance(body, Mapping):
        return [("$", body)], False
    else:
        raise TickError(
            "$", 'expected a tick {"symbol", "price", ...}, {"prices": [ticks]} or a list of ticks'
        )
    if not isinstance(items, list):
        raise TickError(base, "must be a list of ticks")
    if not items:
        raise TickError(base, "is empty: give at least one tick")
    if len(items) > max_batch:
        raise TickError(base, f"holds {len(items)} ticks; at most {max_batch} per request", limit=max_batch)
    return [(f"{base}[{i}]", item) for i, item in enumerate(items)], True


def _number(tick: Mapping[str, Any], name: str, path: str) -> float | None:
    value = tick.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TickError(f"{path}.{name}", "must be a finite number")
    if value < 0 or (value == 0 and name != "volume"):
        raise TickError(f"{path}.{name}", "must be positive" if name != "volume" else "must not be negative")
    return float(value)


def _time(tick: Mapping[str, Any], path: str, now: int, skew_ms: int) -> int:
    """Epoch ms from ``ts`` or ``timestamp`` (else ``now``), refused beyond the allowed skew."""
    raw_ts = tick.get("ts")
    stamp = tick.get("timestamp")
    if raw_ts is not None:
        if isinstance(raw_ts, bool) or not isinstance(raw_ts, int | float) or not math.isfinite(raw_ts):
            raise TickError(f"{path}.ts", "must be epoch milliseconds")
        ts, field = int(raw_ts), "ts"
    elif stamp is not None:
        if not isinstance(stamp, str) or len(stamp) > 64:
            raise TickError(f"{path}.timestamp", "must be an ISO 8601 time, e.g. 2026-01-01T12:00:00Z")
        try:
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError as exc:
            raise TickError(
                f"{path}.timestamp", "must be an ISO 8601 time, e.g. 2026-01-01T12:00:00Z"
            ) from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # the original pushed datetime.utcnow().isoformat()
        ts, field = int(moment.timestamp() * 1000), "timestamp"
    else:
        return now
    if ts <= 0:
        raise TickError(f"{path}.{field}", "must be after 1970")
    if ts > now + skew_ms:
        raise TickError(
            f"{path}.{field}",
            f"is {(ts - now) / 1000:.1f}s in the future (at most {skew_ms / 1000:g}s allowed)",
        )
    return min(ts, now)


def parse_tick(tick: Any, path: str, index: SymbolIndex, now: int, skew_ms: int) -> PriceUpdate:
    """One pushed tick as the record every source emits; :class:`TickError` naming the field."""
    if not isinstance(tick, Mapping):
        raise TickError(path, "must be an object")
    symbol = tick.get("symbol")
    if not isinstance(symbol, str) or not symbol or len(symbol) > MAX_SYMBOL_LENGTH:
        raise TickError(f"{path}.symbol", "must be a symbol such as 'BTCUSDT' or 'EUR/USD'")
    pair = index.resolve(symbol)
    if pair is None:
        raise TickError(
            f"{path}.symbol", f"unknown symbol {symbol!r}; this feed serves {', '.join(index.symbols())}"
        )
    kind = tick.get("type", "price_update")
    if kind != "price_update":
        raise TickError(f"{path}.type", "must be 'price_update' (or left out)")
    price, bid, ask, volume = (_number(tick, name, path) for name in _NUMBERS)
    if bid is not None and ask is not None and bid > ask:
        raise TickError(f"{path}.bid", f"is above ask ({bid:g} > {ask:g})")
    if price is None:
        if bid is None or ask is None:
            raise TickError(f"{path}.price", "is required (or give both bid and ask)")
        price = (bid + ask) / 2
    source = tick.get("source", DEFAULT_SOURCE)
    if not isinstance(source, str) or not _SOURCE_NAME.match(source):
        raise TickError(
            f"{path}.source", "must be a lower-case name such as 'my_exchange' (at most 32 characters)"
        )
    if source in RESERVED_SOURCES:
        raise TickError(
            f"{path}.source", f"{source!r} is one of the feed's own sources; name yours otherwise"
        )
    ts = _time(tick, path, now, skew_ms)
    return PriceUpdate(pair.symbol, price, bid, ask, volume, source, ts)


@dataclass(frozen=True)
class Ingested:
    """What a push did: the records published, and how many were older than their source's last."""

    published: list[PriceUpdate]
    stale: int


class PushSources:
    """The pushers seen so far, each with its ``/sources`` status and last time per symbol."""

    def __init__(
        self, index: SymbolIndex, options: IngestOptions, emit: Callable[[PriceUpdate, int], None]
    ) -> None:
        self.index = index
        self.options = options
        self._emit = emit
        self._lock = threading.Lock()
        self.statuses: dict[str, SourceStatus] = {}
        self._last_ts: dict[tuple[str, str], int] = {}
        self.requests = 0
        self.rejected_requests = 0

    def parse(self, body: Any, now: int) -> tuple[list[PriceUpdate], bool]:
        """Every tick of ``body`` validated (all or none), and whether it was a batch."""
        with self._lock:
            self.requests += 1
        try:
            items, batch = ticks_of(body, self.options.max_batch)
            records = [parse_tick(t, p, self.index, now, self.options.max_clock_skew_ms) for p, t in items]
            new = {r.source for r in records} - set(self.statuses)
            if len(self.statuses) + len(new) > self.options.max_sources:
                raise TickError(
                    "$", f"at most {self.options.max_sources} push sources; new: {', '.join(sorted(new))}",
                    limit=self.options.max_sources, sources=sorted(self.statuses),
                )  # fmt: skip
        except TickError:
            with self._lock:
                self.rejected_requests += 1
            raise
        return records, batch

    def publish(self, records: list[PriceUpdate], received_ns: int) -> Ingested:
        """Hand each record to the feed, skipping those older than their source's last one."""
        published: list[PriceUpdate] = []
        stale = 0
        with self._lock:
            for record in records:
                status = self.statuses.get(record.source)
                if status is None:
                    status = self.statuses[record.source] = SourceStatus(record.source)
                    status.extra["kind"] = "push"
                key = (record.symbol, record.source)
                if record.ts < self._last_ts.get(key, 0):
                    stale += 1
                    status.error("stale", f"{record.symbol} at {record.ts} is older than the last accepted")
                    continue
                self._last_ts[key] = record.ts
                status.set_state("receiving")
                status.message()
                status.published += 1
                published.append(record)
                self._emit(record, received_ns)  # under the lock: a source's ticks stay in order
        return Ingested(published, stale)

    def report(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "rejected_requests": self.rejected_requests,
                "sources": sorted(self.statuses),
                "max_batch": self.options.max_batch,
                "max_sources": self.options.max_sources,
            }

    def status_list(self) -> list[tuple[str, SourceStatus]]:
        """Every push source's status (for metrics), taken under the lock."""
        with self._lock:
            return list(self.statuses.items())

    def snapshots(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: status.snapshot() for name, status in self.statuses.items()}
