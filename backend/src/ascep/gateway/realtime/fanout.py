"""Deliver bus events to Socket.IO clients: rooms, batching, ordering and backpressure.

Everything here runs without blocking I/O (an emit only queues a packet for the client's writer),
so a subscription change and the live stream never interleave half-way:

* **Order per symbol.** ``latest`` holds the newest price per symbol as seen on the bus; an update
  older than it (or an exact repeat) is dropped. Snapshots are taken from ``latest`` at the moment
  the client joins, so nothing it receives afterwards can be older.
* **Rooms.** Per-event clients join ``prices:*`` or ``prices:<SYMBOL>``; batch clients join
  ``prices_batch:*`` / ``prices_batch:<SYMBOL>``; signal clients share one room per distinct filter;
  alert clients join ``alerts``. One emit encodes a packet once for a whole room.
* **Batches.** Batch rooms get one ``price_batch`` per flush (every tick, at most 50 ms, or sooner
  when ``batch_max`` updates wait) instead of one event per tick.
* **Backpressure.** Each tick looks at every client's Engine.IO queue. Above ``queue_high`` packets
  the client is *lagging*: room emits skip it, its prices are conflated to the latest per symbol and
  other events wait in a bounded backlog (oldest dropped, counted). Below ``queue_low`` it catches up
  in one go and rejoins the live stream. A stuck client therefore costs the others nothing.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ascep.common import channels
from ascep.gateway.realtime.protocol import PriceSubscription, SignalFilter

logger = logging.getLogger(__name__)

ROOM_PRICES_ALL = "prices:*"
ROOM_BATCH_ALL = "prices_batch:*"
ROOM_ALERTS = "alerts"


def price_room(symbol: str, batch: bool) -> str:
    return f"prices_batch:{symbol}" if batch else f"prices:{symbol}"


class Emitter(Protocol):
    """What the fan-out needs from Socket.IO."""

    def emit(self, event: str, data: Any, to: str | list[str] | None, skip: list[str] | None) -> None: ...
    def enter_room(self, sid: str, room: str) -> None: ...
    def leave_room(self, sid: str, room: str) -> None: ...
    def queue_size(self, sid: str) -> int | None: ...


@dataclass
class ClientState:
    sid: str
    prices: PriceSubscription | None = None
    signals: SignalFilter | None = None
    alerts: bool = False
    lagging: bool = False
    conflated: dict[str, dict[str, Any]] = field(default_factory=dict)
    backlog: deque[tuple[str, Any]] = field(default_factory=deque)
    conflated_count: int = 0
    dropped_count: int = 0


class Fanout:
    def __init__(
        self,
        emitter: Emitter,
        *,
        batch_max: int = 500,
        backlog_max: int = 500,
        queue_high: int = 200,
        queue_low: int = 20,
        on_lag_change: Callable[[str, bool], None] = lambda sid, lagging: None,
    ) -> None:
        self.emitter = emitter
        self.batch_max = batch_max
        self.backlog_max = backlog_max
        self.queue_high = queue_high
        self.queue_low = queue_low
        self.on_lag_change = on_lag_change
        self.clients: dict[str, ClientState] = {}
        self.latest: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._lagging: list[str] = []
        self._per_event_listeners = 0
        self._batch_all_listeners = 0
        self._batch_symbol_listeners: Counter[str] = Counter()
        self._batch_all: list[dict[str, Any]] = []
        self._batch_by_symbol: dict[str, list[dict[str, Any]]] = {}
        self._signal_groups: dict[str, tuple[SignalFilter, int]] = {}
        self.stale_dropped = 0
        self.conflated_total = 0
        self.dropped_total = 0
        self.delivered: Counter[str] = Counter()

    # ----------------------------------------------------------------- membership
    def connect(self, sid: str) -> None:
        with self._lock:
            self.clients[sid] = ClientState(sid)

    def disconnect(self, sid: str) -> None:
        with self._lock:
            client = self.clients.pop(sid, None)
            if client is None:
                return
            self._forget_prices(client)
            self._forget_signals(client)
            if client.lagging:
                self._lagging.remove(sid)

    def subscribe_prices(self, sid: str, subscription: PriceSubscription) -> PriceSubscription:
        """Join the price rooms and send the snapshot; returns the subscription as resolved."""
        with self._lock:
            client = self.clients[sid]
            self._forget_prices(client, leave_rooms=True)
            subscription = self._resolve_symbols(subscription)
            if subscription.batch:
                self._flush_batches()  # what is pending predates this client's snapshot
            client.prices = subscription
            batch = subscription.batch
            if subscription.symbols is None:
                self.emitter.enter_room(sid, ROOM_BATCH_ALL if batch else ROOM_PRICES_ALL)
                snapshot = sorted(self.latest.values(), key=lambda p: p["symbol"])
            else:
                for symbol in subscription.symbols:
                    self.emitter.enter_room(sid, price_room(symbol, batch))
                snapshot = [self.latest[s] for s in sorted(subscription.symbols) if s in self.latest]
            if batch:
                if subscription.symbols is None:
                    self._batch_all_listeners += 1
                else:
                    self._batch_symbol_listeners.update(subscription.symbols)
            else:
                self._per_event_listeners += 1
            if client.lagging:
                client.conflated.update({p["symbol"]: p for p in snapshot})
            elif snapshot:
                self._send_prices(sid, snapshot, batch)
            return subscription

    def unsubscribe_prices(self, sid: str) -> None:
        with self._lock:
            self._forget_prices(self.clients[sid], leave_rooms=True)

    def subscribe_signals(self, sid: str, signal_filter: SignalFilter) -> None:
        with self._lock:
            client = self.clients[sid]
            self._forget_signals(client, leave_rooms=True)
            client.signals = signal_filter
            key = signal_filter.key
            _, members = self._signal_groups.get(key, (signal_filter, 0))
            self._signal_groups[key] = (signal_filter, members + 1)
            self.emitter.enter_room(sid, f"signals:{key}")

    def unsubscribe_signals(self, sid: str) -> None:
        with self._lock:
            self._forget_signals(self.clients[sid], leave_rooms=True)

    def subscribe_alerts(self, sid: str, subscribed: bool) -> None:
        with self._lock:
            self.clients[sid].alerts = subscribed
            if subscribed:
                self.emitter.enter_room(sid, ROOM_ALERTS)
            else:
                self.emitter.leave_room(sid, ROOM_ALERTS)

    def _resolve_symbols(self, subscription: PriceSubscription) -> PriceSubscription:
        """Accept ``EURUSD`` for a feed that names the pair ``EUR/USD``."""
        if subscription.symbols is None:
            return subscription
        unslashed = {s.replace("/", ""): s for s in self.latest if "/" in s}
        resolved = frozenset(
            s if s in self.latest else unslashed.get(s.replace("/", ""), s) for s in subscription.symbols
        )
        return PriceSubscription(resolved, subscription.batch)

    def _forget_prices(self, client: ClientState, leave_rooms: bool = False) -> None:
        subscription = client.prices
        if subscription is None:
            return
        client.prices = None
        client.conflated.clear()
        if subscription.batch:
            if subscription.symbols is None:
                self._batch_all_listeners -= 1
            else:
                for symbol in subscription.symbols:
                    self._batch_symbol_listeners[symbol] -= 1
                    if self._batch_symbol_listeners[symbol] <= 0:
                        del self._batch_symbol_listeners[symbol]
        else:
            self._per_event_listeners -= 1
        if leave_rooms:
            batch = subscription.batch
            if subscription.symbols is None:
                self.emitter.leave_room(client.sid, ROOM_BATCH_ALL if batch else ROOM_PRICES_ALL)
            else:
                for symbol in subscription.symbols:
                    self.emitter.leave_room(client.sid, price_room(symbol, batch))

    def _forget_signals(self, client: ClientState, leave_rooms: bool = False) -> None:
        signal_filter = client.signals
        if signal_filter is None:
            return
        client.signals = None
        key = signal_filter.key
        group, members = self._signal_groups[key]
        if members <= 1:
            del self._signal_groups[key]
        else:
            self._signal_groups[key] = (group, members - 1)
        if leave_rooms:
            self.emitter.leave_room(client.sid, f"signals:{key}")

    # ----------------------------------------------------------------- bus events
    def prime(self, payload: dict[str, Any]) -> None:
        """Seed the latest-price cache (from Redis at connect) without emitting anything."""
        with self._lock:
            current = self.latest.get(payload["symbol"])
            if current is None or payload["ts"] > current["ts"]:
                self.latest[payload["symbol"]] = payload

    def on_price(self, payload: dict[str, Any]) -> None:
        with self._lock:
            symbol = payload["symbol"]
            previous = self.latest.get(symbol)
            if previous is not None and (
                payload["ts"] < previous["ts"] or (payload["ts"] == previous["ts"] and payload == previous)
            ):
                self.stale_dropped += 1
                return
            self.latest[symbol] = payload
            skip = self._lagging or None
            if self._per_event_listeners:
                self.emitter.emit(
                    channels.EVENT_PRICE_UPDATE, payload, [ROOM_PRICES_ALL, price_room(symbol, False)], skip
                )
                self.delivered[channels.EVENT_PRICE_UPDATE] += 1
            if self._batch_all_listeners:
                self._batch_all.append(payload)
            if symbol in self._batch_symbol_listeners:
                self._batch_by_symbol.setdefault(symbol, []).append(payload)
            if len(self._batch_all) >= self.batch_max:
                self._flush_batches()
            for sid in self._lagging:
                client = self.clients[sid]
                if client.prices is not None and client.prices.wants(symbol):
                    if symbol in client.conflated:
                        client.conflated_count += 1
                        self.conflated_total += 1
                    client.conflated[symbol] = payload

    def on_signal(self, payload: dict[str, Any]) -> None:
        with self._lock:
            rooms = [
                f"signals:{key}" for key, (flt, _) in self._signal_groups.items() if flt.matches(payload)
            ]
            if rooms:
                self.emitter.emit(channels.EVENT_ARBITRAGE_SIGNAL, payload, rooms, self._lagging or None)
                self.delivered[channels.EVENT_ARBITRAGE_SIGNAL] += 1
            for sid in self._lagging:
                client = self.clients[sid]
                if client.signals is not None and client.signals.matches(payload):
                    self._hold(client, channels.EVENT_ARBITRAGE_SIGNAL, payload)

    def on_alert(self, payload: dict[str, Any]) -> None:
        with self._lock:
            self.emitter.emit(channels.EVENT_CEP_ALERT, payload, ROOM_ALERTS, self._lagging or None)
            self.delivered[channels.EVENT_CEP_ALERT] += 1
            for sid in self._lagging:
                client = self.clients[sid]
                if client.alerts:
                    self._hold(client, channels.EVENT_CEP_ALERT, payload)

    def on_broadcast(self, event: str, payload: dict[str, Any]) -> None:
        """Low-volume platform events (service status, task progress) go to every client."""
        with self._lock:
            self.emitter.emit(event, payload, None, self._lagging or None)
            self.delivered[event] += 1
            for sid in self._lagging:
                self._hold(self.clients[sid], event, payload)

    def _hold(self, client: ClientState, event: str, payload: Any) -> None:
        if len(client.backlog) >= self.backlog_max:
            client.backlog.popleft()
            client.dropped_count += 1
            self.dropped_total += 1
        client.backlog.append((event, payload))

    # ----------------------------------------------------------------- periodic work
    def tick(self) -> None:
        """Flush batches, then re-evaluate which clients lag (called at least every 50 ms)."""
        with self._lock:
            self._flush_batches()
            self._check_lag()

    def _flush_batches(self) -> None:
        skip = self._lagging or None
        if self._batch_all:
            self.emitter.emit(channels.EVENT_PRICE_BATCH, self._batch_all, ROOM_BATCH_ALL, skip)
            self.delivered[channels.EVENT_PRICE_BATCH] += 1
            self._batch_all = []
        if self._batch_by_symbol:
            for symbol, updates in self._batch_by_symbol.items():
                self.emitter.emit(channels.EVENT_PRICE_BATCH, updates, price_room(symbol, True), skip)
                self.delivered[channels.EVENT_PRICE_BATCH] += 1
            self._batch_by_symbol = {}

    def _check_lag(self) -> None:
        for sid, client in self.clients.items():
            size = self.emitter.queue_size(sid)
            if size is None:
                continue
            if not client.lagging and size > self.queue_high:
                client.lagging = True
                self._lagging.append(sid)
                logger.info("client %s lags (%d packets queued): conflating its prices", sid, size)
                self.on_lag_change(sid, True)
            elif client.lagging and size <= self.queue_low:
                self._catch_up(client)

    def _catch_up(self, client: ClientState) -> None:
        if client.conflated and client.prices is not None:
            pending = sorted(client.conflated.values(), key=lambda p: p["ts"])
            self._send_prices(client.sid, pending, client.prices.batch)
        client.conflated.clear()
        while client.backlog:
            event, payload = client.backlog.popleft()
            self.emitter.emit(event, payload, client.sid, None)
        client.lagging = False
        self._lagging.remove(client.sid)
        logger.info("client %s caught up", client.sid)
        self.on_lag_change(client.sid, False)

    def _send_prices(self, sid: str, prices: list[dict[str, Any]], batch: bool) -> None:
        if batch:
            self.emitter.emit(channels.EVENT_PRICE_BATCH, prices, sid, None)
        else:
            for payload in prices:
                self.emitter.emit(channels.EVENT_PRICE_UPDATE, payload, sid, None)

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "clients": len(self.clients),
                "lagging_clients": len(self._lagging),
                "symbols_cached": len(self.latest),
                "conflated_updates": self.conflated_total,
                "dropped_events": self.dropped_total,
                "stale_updates_dropped": self.stale_dropped,
                "emits": dict(self.delivered),
                "pending_batch": len(self._batch_all),
            }
