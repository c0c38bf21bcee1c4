"""Who wants what: each client's subscriptions, the rooms they stand for, and listener counts.

Per-event price clients join ``prices:*`` or ``prices:<SYMBOL>``; batch clients join
``prices_batch:*`` / ``prices_batch:<SYMBOL>``; signal clients share one room per distinct filter;
alert clients join ``alerts``; clients of the original protocol that take signals also join
``original:signals`` (CEP signals reach them as ``arbitrage_signal``). One emit then encodes a
packet once for a whole room. The counts let the fan-out skip work nobody is listening for (no
batch is built without a batch client). An original-protocol client is simply subscribed to
every price and every signal — the same rooms as anyone asking for everything — so it costs the
hot path nothing extra. Not thread-safe on its own:
:class:`~ascep.gateway.realtime.fanout.Fanout` holds the lock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ascep.common.symbols import compact
from ascep.gateway.realtime.emitter import Emitter
from ascep.gateway.realtime.protocol import PROTOCOL_SUBSCRIPTIONS, PriceSubscription, SignalFilter

ROOM_PRICES_ALL = "prices:*"
ROOM_BATCH_ALL = "prices_batch:*"
ROOM_ALERTS = "alerts"
#: Original-protocol clients taking signals: CEP signals reach them as ``arbitrage_signal``.
ROOM_ORIGINAL_SIGNALS = "original:signals"
ALL_PRICES = PriceSubscription(None, batch=False)
ALL_SIGNALS = SignalFilter(None, None)


def price_room(symbol: str, batch: bool) -> str:
    return f"prices_batch:{symbol}" if batch else f"prices:{symbol}"


def signal_room(filter_key: str) -> str:
    return f"signals:{filter_key}"


@dataclass(frozen=True)
class Resolution:
    """A price subscription with every symbol in the feed's spelling, and what could not be."""

    subscription: PriceSubscription
    resolved: dict[str, str]  # as asked -> as the feed spells it (only those that differ)
    unknown: tuple[str, ...]  # no price seen for these (yet): kept, they flow if they appear


def resolve_symbols(
    subscription: PriceSubscription, known: Collection[str], by_compact: Mapping[str, str]
) -> Resolution:
    """``BTC/USDT`` → ``BTCUSDT``, ``EURUSD`` → ``EUR/USD``: the spelling-free lookup of
    ``GET /prices/<symbol>`` over the symbols seen (``by_compact``: compact form → symbol)."""
    if subscription.symbols is None:
        return Resolution(subscription, {}, ())
    resolved: dict[str, str] = {}
    unknown: list[str] = []
    out: set[str] = set()
    for asked in subscription.symbols:
        symbol = asked if asked in known else by_compact.get(compact(asked))
        if symbol is None:
            unknown.append(asked)
            symbol = asked
        elif symbol != asked:
            resolved[asked] = symbol
        out.add(symbol)
    return Resolution(PriceSubscription(frozenset(out), subscription.batch), resolved, tuple(sorted(unknown)))


@dataclass
class ClientState:
    sid: str
    protocol: int = PROTOCOL_SUBSCRIPTIONS
    prices: PriceSubscription | None = None
    signals: SignalFilter | None = None
    alerts: bool = False
    original_signals: bool = False  # in ROOM_ORIGINAL_SIGNALS


class Subscriptions:
    def __init__(self, emitter: Emitter) -> None:
        self.emitter = emitter
        self.clients: dict[str, ClientState] = {}
        self.per_event_listeners = 0
        self.batch_all_listeners = 0
        self.batch_symbol_listeners: Counter[str] = Counter()
        self._signal_groups: dict[str, tuple[SignalFilter, int]] = {}

    def connect(self, sid: str, protocol: int = PROTOCOL_SUBSCRIPTIONS) -> ClientState:
        client = self.clients[sid] = ClientState(sid, protocol)
        return client

    def disconnect(self, sid: str) -> bool:
        """Forget the client (Socket.IO drops its rooms itself); False if it was unknown."""
        client = self.clients.pop(sid, None)
        if client is None:
            return False
        self._forget_prices(client, leave_rooms=False)
        self._forget_signals(client, leave_rooms=False)
        return True

    def subscribe_prices(self, sid: str, subscription: PriceSubscription) -> None:
        """Join the rooms of ``subscription`` (already resolved; the previous one is left first)."""
        client = self.clients[sid]
        self._forget_prices(client, leave_rooms=True)
        client.prices = subscription
        batch = subscription.batch
        if subscription.symbols is None:
            self.emitter.enter_room(sid, ROOM_BATCH_ALL if batch else ROOM_PRICES_ALL)
        else:
            for symbol in subscription.symbols:
                self.emitter.enter_room(sid, price_room(symbol, batch))
        if not batch:
            self.per_event_listeners += 1
        elif subscription.symbols is None:
            self.batch_all_listeners += 1
        else:
            self.batch_symbol_listeners.update(subscription.symbols)

    def unsubscribe_prices(self, sid: str) -> None:
        self._forget_prices(self.clients[sid], leave_rooms=True)

    def subscribe_signals(self, sid: str, signal_filter: SignalFilter) -> None:
        client = self.clients[sid]
        self._forget_signals(client, leave_rooms=True)
        client.signals = signal_filter
        key = signal_filter.key
        _, members = self._signal_groups.get(key, (signal_filter, 0))
        self._signal_groups[key] = (signal_filter, members + 1)
        self.emitter.enter_room(sid, signal_room(key))

    def unsubscribe_signals(self, sid: str) -> None:
        self._forget_signals(self.clients[sid], leave_rooms=True)

    def subscribe_original_signals(self, sid: str, subscribed: bool) -> None:
        self.clients[sid].original_signals = subscribed
        if subscribed:
            self.emitter.enter_room(sid, ROOM_ORIGINAL_SIGNALS)
        else:
            self.emitter.leave_room(sid, ROOM_ORIGINAL_SIGNALS)

    def subscribe_alerts(self, sid: str, subscribed: bool) -> None:
        self.clients[sid].alerts = subscribed
        if subscribed:
            self.emitter.enter_room(sid, ROOM_ALERTS)
        else:
            self.emitter.leave_room(sid, ROOM_ALERTS)

    def signal_rooms(self, signal: Mapping[str, Any]) -> list[str]:
        """The rooms of the distinct filters that ``signal`` matches."""
        return [signal_room(key) for key, (flt, _) in self._signal_groups.items() if flt.matches(signal)]

    def _forget_prices(self, client: ClientState, leave_rooms: bool) -> None:
        subscription = client.prices
        if subscription is None:
            return
        client.prices = None
        if not subscription.batch:
            self.per_event_listeners -= 1
        elif subscription.symbols is None:
            self.batch_all_listeners -= 1
        else:
            for symbol in subscription.symbols:
                self.batch_symbol_listeners[symbol] -= 1
                if self.batch_symbol_listeners[symbol] <= 0:
                    del self.batch_symbol_listeners[symbol]
        if leave_rooms:
            batch = subscription.batch
            if subscription.symbols is None:
                self.emitter.leave_room(client.sid, ROOM_BATCH_ALL if batch else ROOM_PRICES_ALL)
            else:
                for symbol in subscription.symbols:
                    self.emitter.leave_room(client.sid, price_room(symbol, batch))

    def _forget_signals(self, client: ClientState, leave_rooms: bool) -> None:
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
            self.emitter.leave_room(client.sid, signal_room(key))
