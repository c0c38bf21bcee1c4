"""Protocol 1 (the original ASCEP): everything to everyone; protocol 2 unchanged; symbol aliases."""

from __future__ import annotations

from typing import Any

import pytest

from ascep.common.events import EventFormatError
from ascep.gateway.realtime.fanout import Fanout
from ascep.gateway.realtime.protocol import PriceSubscription, SignalFilter, parse_protocol
from unit.gateway.realtime.test_fanout import RoomEmitter, events, price

SIGNAL = {"id": 1, "event": "open", "type": "triangular", "peak_spread_percentage": 0.3}
CEP_SIGNAL = {"id": "cep_x", "type": "cep_signal", "rule_id": 4}


@pytest.fixture
def setup() -> tuple[Fanout, RoomEmitter]:
    emitter = RoomEmitter()
    fanout = Fanout(emitter, batch_max=5, backlog_max=3, queue_high=10, queue_low=2)
    fanout.prime(price("BTCUSDT", 1))
    fanout.prime(price("EUR/USD", 1))
    return fanout, emitter


def connect(fanout: Fanout, emitter: RoomEmitter, sid: str, protocol: int) -> None:
    emitter.inbox[sid] = []
    fanout.connect(sid, protocol)


@pytest.mark.parametrize(
    ("auth", "query", "expected"),
    [(None, None, 1), ({}, None, 1), ({"protocol": 2}, None, 2), ({"protocol": "1"}, None, 1),
     (None, "2", 2), ({"protocol": 2}, "2", 2), ("a-token", None, 1), ({"token": "x"}, "2", 2)],
)  # fmt: skip
def test_the_handshake_says_which_protocol_nothing_meaning_the_original(
    auth: Any, query: str | None, expected: int
) -> None:
    assert parse_protocol(auth, query) == expected


@pytest.mark.parametrize(
    ("auth", "query", "field"),
    [({"protocol": 3}, None, "auth.protocol"), ({"protocol": True}, None, "auth.protocol"),
     ({"protocol": "x" * 1000}, None, "auth.protocol"), (None, "v2", "query.protocol"),
     ({"protocol": 1}, "2", "protocol")],
)  # fmt: skip
def test_an_unknown_or_contradictory_protocol_is_refused(auth: Any, query: str | None, field: str) -> None:
    with pytest.raises(EventFormatError) as caught:
        parse_protocol(auth, query)
    assert caught.value.field == field
    assert len(str(caught.value)) < 200


def test_an_original_client_gets_every_price_and_signal_without_subscribing(
    setup: tuple[Fanout, RoomEmitter],
) -> None:
    fanout, emitter = setup
    connect(fanout, emitter, "old", 1)
    connect(fanout, emitter, "new", 2)
    fanout.on_price(price("BTCUSDT", 2))
    fanout.on_price(price("EUR/USD", 2))
    fanout.on_signal(SIGNAL)
    assert [p["symbol"] for p in events(emitter, "old", "price_update")] == ["BTCUSDT", "EUR/USD"]
    assert events(emitter, "old", "arbitrage_signal") == [SIGNAL]
    assert events(emitter, "new") == []


def test_an_original_clients_symbol_list_does_not_narrow_what_it_gets(
    setup: tuple[Fanout, RoomEmitter],
) -> None:
    fanout, emitter = setup
    connect(fanout, emitter, "old", 1)
    # The original dashboard subscribes to three forex symbols and shows every symbol.
    fanout.subscribe_prices(
        "old", PriceSubscription(frozenset({"EUR/USD", "USD/EUR", "GBP/USD"}), batch=False)
    )
    snapshot = [p["symbol"] for p in events(emitter, "old", "price_update")]
    assert snapshot == ["BTCUSDT", "EUR/USD"]  # a snapshot of every symbol
    fanout.on_price(price("BTCUSDT", 3))
    assert events(emitter, "old", "price_update")[-1]["ts"] == 3
    fanout.subscribe_signals("old", SignalFilter(frozenset({"direct"}), 5.0))
    fanout.on_signal(SIGNAL)  # triangular, 0.3 %: outside the filter it asked for, delivered anyway
    assert events(emitter, "old", "arbitrage_signal") == [SIGNAL]


def test_a_subscriptions_client_keeps_todays_behaviour(setup: tuple[Fanout, RoomEmitter]) -> None:
    fanout, emitter = setup
    connect(fanout, emitter, "new", 2)
    fanout.subscribe_prices("new", PriceSubscription(frozenset({"BTCUSDT"}), batch=False))
    fanout.on_price(price("EUR/USD", 3))
    fanout.on_price(price("BTCUSDT", 3))
    assert [(p["symbol"], p["ts"]) for p in events(emitter, "new", "price_update")] == [
        ("BTCUSDT", 1),
        ("BTCUSDT", 3),
    ]


def test_cep_signals_go_to_alert_subscribers_and_as_arbitrage_signals_to_original_clients(
    setup: tuple[Fanout, RoomEmitter],
) -> None:
    fanout, emitter = setup
    connect(fanout, emitter, "old", 1)
    connect(fanout, emitter, "new", 2)
    connect(fanout, emitter, "new-signals", 2)
    fanout.subscribe_alerts("new", True)
    fanout.subscribe_signals("new-signals", SignalFilter(None, None))
    fanout.on_cep_signal(CEP_SIGNAL)
    assert emitter.inbox["old"] == [("arbitrage_signal", CEP_SIGNAL)]
    assert emitter.inbox["new"] == [("cep_signal", CEP_SIGNAL)]
    assert emitter.inbox["new-signals"] == []  # protocol 2 signal rooms never get CEP signals
    fanout.unsubscribe_signals("old")
    fanout.on_cep_signal(CEP_SIGNAL)
    fanout.on_signal(SIGNAL)
    assert emitter.inbox["old"] == [("arbitrage_signal", CEP_SIGNAL)]


def test_a_lagging_original_client_is_owed_its_cep_signals(setup: tuple[Fanout, RoomEmitter]) -> None:
    fanout, emitter = setup
    connect(fanout, emitter, "old", 1)
    emitter.queue["old"] = 50
    fanout.tick()
    fanout.on_cep_signal(CEP_SIGNAL)
    assert emitter.inbox["old"] == []
    emitter.queue["old"] = 0
    fanout.tick()
    assert ("arbitrage_signal", CEP_SIGNAL) in emitter.inbox["old"]


def test_aliases_resolve_and_unknown_symbols_are_reported(setup: tuple[Fanout, RoomEmitter]) -> None:
    fanout, _ = setup
    fanout.on_price(price("ETHUSDT", 2))  # a symbol first seen live
    asked = PriceSubscription(
        frozenset({"BTC/USDT", "EURUSD", "ETH-USDT", "USD/EUR", "BTCUSDT"}), batch=False
    )
    resolution = fanout.resolve(asked)
    assert resolution.subscription.symbols == {"BTCUSDT", "EUR/USD", "ETHUSDT", "USD/EUR"}
    assert resolution.resolved == {"BTC/USDT": "BTCUSDT", "EURUSD": "EUR/USD", "ETH-USDT": "ETHUSDT"}
    assert resolution.unknown == ("USD/EUR",)


def test_an_unknown_symbol_stays_subscribed_and_flows_once_it_appears(
    setup: tuple[Fanout, RoomEmitter],
) -> None:
    fanout, emitter = setup
    connect(fanout, emitter, "new", 2)
    fanout.subscribe_prices("new", PriceSubscription(frozenset({"SOLUSDT"}), batch=False))
    fanout.on_price(price("SOLUSDT", 5))
    assert [p["symbol"] for p in events(emitter, "new", "price_update")] == ["SOLUSDT"]
    assert fanout.status()["clients_by_protocol"] == {"1": 0, "2": 1}
