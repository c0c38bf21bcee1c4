"""The fan-out's routing, ordering, batching and backpressure, against a recording emitter."""

from __future__ import annotations

from typing import Any

import pytest

from ascep.gateway.realtime.fanout import Fanout
from ascep.gateway.realtime.protocol import PriceSubscription, SignalFilter


class RoomEmitter:
    """A miniature Socket.IO: rooms, per-client inboxes and queue depths the test controls."""

    def __init__(self) -> None:
        self.rooms: dict[str, set[str]] = {}
        self.inbox: dict[str, list[tuple[str, Any]]] = {}
        self.queue: dict[str, int] = {}

    def emit(self, event: str, data: Any, to: str | list[str] | None, skip: list[str] | None) -> None:
        if to is None:
            targets = set(self.inbox)
        elif isinstance(to, list):
            targets = set().union(*(self.rooms.get(r, set()) for r in to))
        elif to in self.inbox:
            targets = {to}
        else:
            targets = set(self.rooms.get(to, set()))
        for sid in targets - set(skip or ()):
            self.inbox[sid].append((event, data))

    def enter_room(self, sid: str, room: str) -> None:
        self.rooms.setdefault(room, set()).add(sid)

    def leave_room(self, sid: str, room: str) -> None:
        self.rooms.get(room, set()).discard(sid)

    def queue_size(self, sid: str) -> int | None:
        return self.queue.get(sid, 0) if sid in self.inbox else None

    def add_client(self, fanout: Fanout, sid: str) -> None:
        self.inbox[sid] = []
        fanout.connect(sid)


def price(symbol: str, ts: int, value: float = 1.0) -> dict[str, Any]:
    return {"symbol": symbol, "price": value, "ts": ts}


@pytest.fixture
def setup() -> tuple[Fanout, RoomEmitter]:
    emitter = RoomEmitter()
    return Fanout(emitter, batch_max=5, backlog_max=3, queue_high=10, queue_low=2), emitter


def events(emitter: RoomEmitter, sid: str, name: str | None = None) -> list[Any]:
    return [data for event, data in emitter.inbox[sid] if name is None or event == name]


def test_snapshot_then_only_subscribed_symbols(setup: tuple[Fanout, RoomEmitter]) -> None:
    fanout, emitter = setup
    fanout.prime(price("BTCUSDT", 10))
    fanout.prime(price("ETHUSDT", 10))
    emitter.add_client(fanout, "a")
    fanout.subscribe_prices("a", PriceSubscription(frozenset({"BTCUSDT"}), batch=False))
    fanout.on_price(price("ETHUSDT", 11))
    fanout.on_price(price("BTCUSDT", 12))
    assert [p["ts"] for p in events(emitter, "a", "price_update")] == [10, 12]


def test_older_and_repeated_updates_are_dropped(setup: tuple[Fanout, RoomEmitter]) -> None:
    fanout, emitter = setup
    emitter.add_client(fanout, "a")
    fanout.subscribe_prices("a", PriceSubscription(None, batch=False))
    for update in [price("X", 5), price("X", 4), price("X", 5), price("X", 5, value=2.0), price("X", 6)]:
        fanout.on_price(update)
    assert [(p["ts"], p["price"]) for p in events(emitter, "a")] == [(5, 1.0), (5, 2.0), (6, 1.0)]
    assert fanout.stale_dropped == 2


def test_batches_flush_on_tick_and_when_full(setup: tuple[Fanout, RoomEmitter]) -> None:
    fanout, emitter = setup
    emitter.add_client(fanout, "b")
    fanout.subscribe_prices("b", PriceSubscription(None, batch=True))
    for ts in range(1, 8):
        fanout.on_price(price("X", ts))
    batches = events(emitter, "b", "price_batch")
    assert [[p["ts"] for p in batch] for batch in batches] == [[1, 2, 3, 4, 5]], "early flush at batch_max"
    fanout.tick()
    batches = events(emitter, "b", "price_batch")
    assert [p["ts"] for p in batches[-1]] == [6, 7]
    assert not events(emitter, "b", "price_update")


def test_new_batch_subscriber_gets_snapshot_not_older_pending(setup: tuple[Fanout, RoomEmitter]) -> None:
    fanout, emitter = setup
    emitter.add_client(fanout, "old")
    fanout.subscribe_prices("old", PriceSubscription(None, batch=True))
    fanout.on_price(price("X", 1))
    fanout.on_price(price("X", 2))
    emitter.add_client(fanout, "new")
    fanout.subscribe_prices("new", PriceSubscription(None, batch=True))
    fanout.on_price(price("X", 3))
    fanout.tick()
    assert [[p["ts"] for p in b] for b in events(emitter, "old")] == [[1, 2], [3]]
    assert [[p["ts"] for p in b] for b in events(emitter, "new")] == [[2], [3]]


def test_lagging_client_is_conflated_then_catches_up_in_order(setup: tuple[Fanout, RoomEmitter]) -> None:
    fanout, emitter = setup
    emitter.add_client(fanout, "fast")
    emitter.add_client(fanout, "slow")
    for sid in ("fast", "slow"):
        fanout.subscribe_prices(sid, PriceSubscription(None, batch=False))
    emitter.queue["slow"] = 50
    fanout.tick()
    for ts in range(1, 6):
        fanout.on_price(price("A", ts))
        fanout.on_price(price("B", ts * 10))
    assert len(events(emitter, "fast")) == 10
    assert events(emitter, "slow") == []
    assert fanout.backpressure.conflated_total == 8
    emitter.queue["slow"] = 0
    fanout.tick()
    assert [(p["symbol"], p["ts"]) for p in events(emitter, "slow")] == [("A", 5), ("B", 50)]
    fanout.on_price(price("A", 6))
    assert events(emitter, "slow")[-1]["ts"] == 6


def test_lagging_backlog_is_bounded_and_counted(setup: tuple[Fanout, RoomEmitter]) -> None:
    fanout, emitter = setup
    emitter.add_client(fanout, "slow")
    fanout.subscribe_alerts("slow", True)
    emitter.queue["slow"] = 50
    fanout.tick()
    for n in range(5):
        fanout.on_alert({"n": n})
    emitter.queue["slow"] = 0
    fanout.tick()
    assert [a["n"] for a in events(emitter, "slow", "cep_alert")] == [2, 3, 4]
    assert fanout.backpressure.dropped_total == 2


def test_signal_filters_share_rooms(setup: tuple[Fanout, RoomEmitter]) -> None:
    fanout, emitter = setup
    for sid in ("tri", "tri2", "any"):
        emitter.add_client(fanout, sid)
    fanout.subscribe_signals("tri", SignalFilter(frozenset({"triangular"}), 1.0))
    fanout.subscribe_signals("tri2", SignalFilter(frozenset({"triangular"}), 1.0))
    fanout.subscribe_signals("any", SignalFilter(None, None))
    fanout.on_signal({"type": "triangular", "spread_percentage": 2.0})
    fanout.on_signal({"type": "direct", "spread_percentage": 5.0})
    fanout.on_signal({"type": "triangular", "spread_percentage": 0.1})
    assert len(events(emitter, "tri")) == 1
    assert len(events(emitter, "tri2")) == 1
    assert len(events(emitter, "any")) == 3
    fanout.unsubscribe_signals("tri")
    fanout.on_signal({"type": "triangular", "spread_percentage": 2.0})
    assert len(events(emitter, "tri")) == 1
    assert len(events(emitter, "tri2")) == 2


def test_forex_symbols_resolve_without_slash(setup: tuple[Fanout, RoomEmitter]) -> None:
    fanout, emitter = setup
    fanout.prime(price("EUR/USD", 1))
    emitter.add_client(fanout, "a")
    resolved = fanout.subscribe_prices("a", PriceSubscription(frozenset({"EURUSD"}), batch=False))
    assert resolved.symbols == frozenset({"EUR/USD"})
    assert events(emitter, "a")[0]["symbol"] == "EUR/USD"


def test_disconnect_forgets_everything(setup: tuple[Fanout, RoomEmitter]) -> None:
    fanout, emitter = setup
    emitter.add_client(fanout, "a")
    fanout.subscribe_prices("a", PriceSubscription(frozenset({"X"}), batch=True))
    fanout.subscribe_signals("a", SignalFilter(None, None))
    emitter.queue["a"] = 50
    fanout.tick()
    fanout.disconnect("a")
    del emitter.inbox["a"]
    fanout.on_price(price("X", 1))
    fanout.on_signal({"type": "direct"})
    fanout.tick()
    assert fanout.status()["clients"] == 0
    assert fanout.status()["lagging_clients"] == 0
