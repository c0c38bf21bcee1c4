"""Who wants what: each client's subscriptions, the rooms they stand for, and listener counts.

Per-event price clients join ``prices:*`` or ``prices:<SYMBOL>``; batch clients join
``prices_batch:*`` / ``prices_batch:<SYMBOL>``; signal clients share one room per distinct filter;
alert clients join ``alerts``. One emit then encodes a packet once for a whole room. The counts
let the fan-out skip work nobody is listening for (no batch is built without a batch client).
Not thread-safe on its own: :class:`~ascep.gateway.realtime.fanout.Fanout` holds the lock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ascep.gateway.realtime.emitter import Emitter
from ascep.gateway.realtime.protocol import PriceSubscription, SignalFilter

ROOM_PRICES_ALL = "prices:*"
ROOM_BATCH_ALL = "prices_batch:*"
ROOM_ALERTS = "alerts"


def price_room(symbol: str, batch: bool) -> str:
    return f"prices_batch:{symbol}" if batch else f"prices:{symbol}"


def signal_room(filter_key: str) -> str:
    return f"signals:{filter_key}"


def resolve_symbols(subscription: PriceSubscription, known: Collection[str]) -> PriceSubscription:
    """Accept ``EURUSD`` for a feed that names the pair ``EUR/USD`` (``known``: symbols seen)."""
    if subscription.symbols is None:
        return subscription
    unslashed = {s.replace("/", ""): s for s in known if "/" in s}
    resolved = frozenset(
        s if s in known else unslashed.get(s.replace("/", ""), s) for s in subscription.symbols
    )
    return PriceSubscription(resolved, subscription.batch)


@dataclass
class ClientState:
    sid: str
    prices: PriceSubscription | None = None
    signals: SignalFilter | None = None
    alerts: bool = False


class Subscriptions:
    def __init__(self, emitter: Emitter) -> None:
        self.emitter = emitter
        self.clients: dict[str, ClientState] = {}
        self.per_event_listeners = 0
        self.batch_all_listeners = 0
        self.batch_symbol_listeners: Counter[str] = Counter()
        self._signal_groups: dict[str, tuple[SignalFilter, int]] = {}

    def connect(self, sid: str) -> None:
        self.clients[sid] = ClientState(sid)

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
