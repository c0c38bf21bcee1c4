"""Deliver bus events to Socket.IO clients: ordering, batching, and the routing between the parts.

Who wants what is :mod:`~ascep.gateway.realtime.subscriptions`; who lags and what it is owed is
:mod:`~ascep.gateway.realtime.backpressure`. This module holds the one lock, the latest price per
symbol and the pending batches. Everything runs without blocking I/O (an emit only queues a
packet for the client's writer), so a subscription change and the live stream never interleave
half-way:

* **Order per symbol.** ``latest`` holds the newest price per symbol as seen on the bus; an update
  older than it (or an exact repeat) is dropped. Snapshots are taken from ``latest`` at the moment
  the client joins, so nothing it receives afterwards can be older.
* **Batches.** Batch rooms get one ``price_batch`` per flush (every tick, at most 50 ms, or sooner
  when ``batch_max`` updates wait) instead of one event per tick.
* **Backpressure.** Room emits skip lagging clients; what they miss is conflated or held for them
  and sent when they catch up.
* **Protocols.** A client of the original protocol is subscribed to every price and every signal
  when it connects, and its ``subscribe_*`` keep it so (they still resolve and acknowledge); CEP
  signals reach it as ``arbitrage_signal``, as the original gateway sent them.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from ascep.common import channels
from ascep.common.symbols import compact
from ascep.gateway.realtime.backpressure import Backpressure
from ascep.gateway.realtime.emitter import Emitter
from ascep.gateway.realtime.protocol import (
    PROTOCOL_ORIGINAL,
    PROTOCOL_SUBSCRIPTIONS,
    PriceSubscription,
    SignalFilter,
)
from ascep.gateway.realtime.subscriptions import (
    ALL_PRICES,
    ALL_SIGNALS,
    ROOM_ALERTS,
    ROOM_BATCH_ALL,
    ROOM_ORIGINAL_SIGNALS,
    ROOM_PRICES_ALL,
    ClientState,
    Resolution,
    Subscriptions,
    price_room,
    resolve_symbols,
)


class Fanout:
    def __init__(
        self,
        emitter: Emitter,
        *,
        batch_max: int = 500,
        backlog_max: int = 500,
        queue_high: int = 200,
        queue_low: int = 20,
    ) -> None:
        self.emitter = emitter
        self.batch_max = batch_max
        self.subscriptions = Subscriptions(emitter)
        self.backpressure = Backpressure(
            emitter, backlog_max=backlog_max, queue_high=queue_high, queue_low=queue_low
        )
        self.latest: dict[str, dict[str, Any]] = {}
        self._by_compact: dict[str, str] = {}  # compact spelling -> symbol, for subscriptions
        self._lock = threading.Lock()
        self._batch_all: list[dict[str, Any]] = []
        self._batch_by_symbol: dict[str, list[dict[str, Any]]] = {}
        self.stale_dropped = 0
        self.delivered: Counter[str] = Counter()

    @property
    def clients(self) -> dict[str, ClientState]:
        return self.subscriptions.clients

    # ----------------------------------------------------------------- membership
    def connect(self, sid: str, protocol: int = PROTOCOL_SUBSCRIPTIONS) -> None:
        """Register a client; one of the original protocol starts subscribed to everything."""
        with self._lock:
            self.subscriptions.connect(sid, protocol)
            if protocol == PROTOCOL_ORIGINAL:
                self.subscriptions.subscribe_prices(sid, ALL_PRICES)
                self.subscriptions.subscribe_signals(sid, ALL_SIGNALS)
                self.subscriptions.subscribe_original_signals(sid, True)

    def protocol_of(self, sid: str) -> int:
        client = self.subscriptions.clients.get(sid)
        return client.protocol if client is not None else PROTOCOL_SUBSCRIPTIONS

    def resolve(self, subscription: PriceSubscription) -> Resolution:
        """``subscription`` in the feed's spellings, with the symbols no price was seen for."""
        with self._lock:
            return resolve_symbols(subscription, self.latest, self._by_compact)

    def disconnect(self, sid: str) -> None:
        with self._lock:
            if self.subscriptions.disconnect(sid):
                self.backpressure.forget(sid)

    def subscribe_prices(self, sid: str, subscription: PriceSubscription) -> PriceSubscription:
        """Join the price rooms and send the snapshot; returns the subscription as delivered
        (resolved; every symbol for a client of the original protocol)."""
        with self._lock:
            self.subscriptions.unsubscribe_prices(sid)
            self.backpressure.forget_prices(sid)
            if self.subscriptions.clients[sid].protocol == PROTOCOL_ORIGINAL:
                subscription = PriceSubscription(None, subscription.batch)
            else:
                subscription = resolve_symbols(subscription, self.latest, self._by_compact).subscription
            if subscription.batch:
                self._flush_batches()  # what is pending predates this client's snapshot
            self.subscriptions.subscribe_prices(sid, subscription)
            if subscription.symbols is None:
                snapshot = sorted(self.latest.values(), key=lambda p: p["symbol"])
            else:
                snapshot = [self.latest[s] for s in sorted(subscription.symbols) if s in self.latest]
            if self.backpressure.is_lagging(sid):
                self.backpressure.owe_prices(sid, snapshot)
            elif snapshot:
                self._send_prices(sid, snapshot, subscription.batch)
            return subscription

    def unsubscribe_prices(self, sid: str) -> None:
        with self._lock:
            self.subscriptions.unsubscribe_prices(sid)
            self.backpressure.forget_prices(sid)

    def subscribe_signals(self, sid: str, signal_filter: SignalFilter) -> None:
        with self._lock:
            if self.subscriptions.clients[sid].protocol == PROTOCOL_ORIGINAL:
                signal_filter = ALL_SIGNALS
                self.subscriptions.subscribe_original_signals(sid, True)
            self.subscriptions.subscribe_signals(sid, signal_filter)

    def unsubscribe_signals(self, sid: str) -> None:
        with self._lock:
            self.subscriptions.unsubscribe_signals(sid)
            if self.subscriptions.clients[sid].original_signals:
                self.subscriptions.subscribe_original_signals(sid, False)

    def subscribe_alerts(self, sid: str, subscribed: bool) -> None:
        with self._lock:
            self.subscriptions.subscribe_alerts(sid, subscribed)

    # ----------------------------------------------------------------- bus events
    def prime(self, payload: dict[str, Any]) -> None:
        """Seed the latest-price cache (from Redis at connect) without emitting anything."""
        with self._lock:
            current = self.latest.get(payload["symbol"])
            if current is None:
                self._by_compact[compact(payload["symbol"])] = payload["symbol"]
            if current is None or payload["ts"] > current["ts"]:
                self.latest[payload["symbol"]] = payload

    def on_price(self, payload: dict[str, Any]) -> None:
        with self._lock:
            symbol = payload["symbol"]
            previous = self.latest.get(symbol)
            if previous is None:
                self._by_compact[compact(symbol)] = symbol  # a new symbol: once per symbol
            elif payload["ts"] < previous["ts"] or (payload["ts"] == previous["ts"] and payload == previous):
                self.stale_dropped += 1
                return
            self.latest[symbol] = payload
            subscriptions, backpressure = self.subscriptions, self.backpressure
            if subscriptions.per_event_listeners:
                self.emitter.emit(
                    channels.EVENT_PRICE_UPDATE,
                    payload,
                    [ROOM_PRICES_ALL, price_room(symbol, False)],
                    backpressure.skip,
                )
                self.delivered[channels.EVENT_PRICE_UPDATE] += 1
            if subscriptions.batch_all_listeners:
                self._batch_all.append(payload)
            if symbol in subscriptions.batch_symbol_listeners:
                self._batch_by_symbol.setdefault(symbol, []).append(payload)
            if len(self._batch_all) >= self.batch_max:
                self._flush_batches()
            for sid in backpressure.lagging:
                prices = subscriptions.clients[sid].prices
                if prices is not None and prices.wants(symbol):
                    backpressure.conflate(sid, payload)

    def on_signal(self, payload: dict[str, Any]) -> None:
        with self._lock:
            rooms = self.subscriptions.signal_rooms(payload)
            if rooms:
                self.emitter.emit(channels.EVENT_ARBITRAGE_SIGNAL, payload, rooms, self.backpressure.skip)
                self.delivered[channels.EVENT_ARBITRAGE_SIGNAL] += 1
            for sid in self.backpressure.lagging:
                signals = self.subscriptions.clients[sid].signals
                if signals is not None and signals.matches(payload):
                    self.backpressure.hold(sid, channels.EVENT_ARBITRAGE_SIGNAL, payload)

    def on_alert(self, payload: dict[str, Any]) -> None:
        with self._lock:
            self.emitter.emit(channels.EVENT_CEP_ALERT, payload, ROOM_ALERTS, self.backpressure.skip)
            self.delivered[channels.EVENT_CEP_ALERT] += 1
            for sid in self.backpressure.lagging:
                if self.subscriptions.clients[sid].alerts:
                    self.backpressure.hold(sid, channels.EVENT_CEP_ALERT, payload)

    def on_cep_signal(self, payload: dict[str, Any]) -> None:
        """A rule's signal: ``cep_signal`` to alert subscribers, and ``arbitrage_signal`` to
        original-protocol clients taking signals (how the original gateway delivered it)."""
        with self._lock:
            skip = self.backpressure.skip
            self.emitter.emit(channels.EVENT_CEP_SIGNAL, payload, ROOM_ALERTS, skip)
            self.emitter.emit(channels.EVENT_ARBITRAGE_SIGNAL, payload, ROOM_ORIGINAL_SIGNALS, skip)
            self.delivered[channels.EVENT_CEP_SIGNAL] += 1
            for sid in self.backpressure.lagging:
                client = self.subscriptions.clients[sid]
                if client.alerts:
                    self.backpressure.hold(sid, channels.EVENT_CEP_SIGNAL, payload)
                if client.original_signals:
                    self.backpressure.hold(sid, channels.EVENT_ARBITRAGE_SIGNAL, payload)

    def on_broadcast(self, event: str, payload: dict[str, Any]) -> None:
        """Low-volume platform events (service status, task progress) go to every client."""
        with self._lock:
            self.emitter.emit(event, payload, None, self.backpressure.skip)
            self.delivered[event] += 1
            for sid in self.backpressure.lagging:
                self.backpressure.hold(sid, event, payload)

    # ----------------------------------------------------------------- periodic work
    def tick(self) -> None:
        """Flush batches, then re-evaluate which clients lag (called at least every 50 ms)."""
        with self._lock:
            self._flush_batches()
            self.backpressure.check(self.subscriptions.clients, self._send_owed_prices)

    def _flush_batches(self) -> None:
        skip = self.backpressure.skip
        if self._batch_all:
            self.emitter.emit(channels.EVENT_PRICE_BATCH, self._batch_all, ROOM_BATCH_ALL, skip)
            self.delivered[channels.EVENT_PRICE_BATCH] += 1
            self._batch_all = []
        if self._batch_by_symbol:
            for symbol, updates in self._batch_by_symbol.items():
                self.emitter.emit(channels.EVENT_PRICE_BATCH, updates, price_room(symbol, True), skip)
                self.delivered[channels.EVENT_PRICE_BATCH] += 1
            self._batch_by_symbol = {}

    def _send_owed_prices(self, sid: str, prices: list[dict[str, Any]]) -> None:
        subscription = self.subscriptions.clients[sid].prices
        if subscription is not None:
            self._send_prices(sid, prices, subscription.batch)

    def _send_prices(self, sid: str, prices: list[dict[str, Any]], batch: bool) -> None:
        if batch:
            self.emitter.emit(channels.EVENT_PRICE_BATCH, prices, sid, None)
        else:
            for payload in prices:
                self.emitter.emit(channels.EVENT_PRICE_UPDATE, payload, sid, None)

    def status(self) -> dict[str, Any]:
        with self._lock:
            original = sum(1 for c in self.subscriptions.clients.values() if c.protocol == PROTOCOL_ORIGINAL)
            return {
                "clients": len(self.subscriptions.clients),
                "clients_by_protocol": {"1": original, "2": len(self.subscriptions.clients) - original},
                "lagging_clients": len(self.backpressure.lagging),
                "symbols_cached": len(self.latest),
                "conflated_updates": self.backpressure.conflated_total,
                "dropped_events": self.backpressure.dropped_total,
                "stale_updates_dropped": self.stale_dropped,
                "emits": dict(self.delivered),
                "pending_batch": len(self._batch_all),
            }
