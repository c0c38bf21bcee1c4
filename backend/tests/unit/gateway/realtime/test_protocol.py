"""Client payloads are validated strictly, with the offending field named."""

from __future__ import annotations

import pytest

from ascep.common.events import EventFormatError
from ascep.gateway.realtime.protocol import parse_empty, parse_price_subscription, parse_signal_filter

MAX = 3


def test_price_subscription_defaults_to_everything_per_event() -> None:
    sub = parse_price_subscription(None, max_symbols=MAX)
    assert sub.symbols is None
    assert sub.batch is False
    assert sub.wants("ANYTHING")


def test_price_subscription_normalises_symbols() -> None:
    sub = parse_price_subscription({"symbols": ["btcusdt", "EUR/USD"], "batch": True}, max_symbols=MAX)
    assert sub.symbols == frozenset({"BTCUSDT", "EUR/USD"})
    assert sub.batch
    assert sub.describe() == {
        "stream": "prices",
        "subscribed": True,
        "symbols": ["BTCUSDT", "EUR/USD"],
        "batch": True,
    }


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ("BTCUSDT", "$"),
        ({"symbols": "BTCUSDT"}, "symbols"),
        ({"symbols": []}, "symbols"),
        ({"symbols": [5]}, "symbols[0]"),
        ({"symbols": ["BTC USDT"]}, "symbols[0]"),
        ({"symbols": ["x" * 40]}, "symbols[0]"),
        ({"batch": "yes"}, "batch"),
        ({"symbol": ["BTCUSDT"]}, "symbol"),
        ({"symbols": [f"S{i}" for i in range(MAX + 1)]}, "symbols"),
    ],
)
def test_bad_price_subscriptions(payload: object, field: str) -> None:
    with pytest.raises(EventFormatError) as caught:
        parse_price_subscription(payload, max_symbols=MAX)
    assert caught.value.field == field


def test_the_symbol_cap_is_inclusive() -> None:
    assert len(parse_price_subscription({"symbols": ["A", "B", "C"]}, max_symbols=MAX).symbols or ()) == MAX


def test_signal_filter_matching() -> None:
    flt = parse_signal_filter({"types": ["triangular"], "min_spread_percentage": 0.5})
    assert flt.matches({"type": "triangular", "spread_percentage": 0.5})
    assert not flt.matches({"type": "triangular", "spread_percentage": 0.49})
    assert not flt.matches({"type": "direct", "spread_percentage": 3})
    assert not flt.matches({"type": "triangular"})
    assert parse_signal_filter(None).matches({"type": "anything"})
    assert flt.key == parse_signal_filter({"min_spread_percentage": 0.5, "types": ["triangular"]}).key


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"types": ["bogus"]}, "types"),
        ({"types": "triangular"}, "types"),
        ({"min_spread_percentage": "1"}, "min_spread_percentage"),
        ({"min_spread_percentage": -1}, "min_spread_percentage"),
        ({"min_spread_percentage": True}, "min_spread_percentage"),
        ({"min_spread": 1}, "min_spread"),
    ],
)
def test_bad_signal_filters(payload: object, field: str) -> None:
    with pytest.raises(EventFormatError) as caught:
        parse_signal_filter(payload)
    assert caught.value.field == field


def test_empty_payloads() -> None:
    parse_empty(None)
    parse_empty({})
    with pytest.raises(EventFormatError):
        parse_empty({"x": 1})


def test_min_spread_uses_the_peak_so_a_subscriber_sees_the_close() -> None:
    flt = parse_signal_filter({"min_spread_percentage": 0.5})
    opened = {"type": "triangular", "status": "open", "spread_percentage": 0.8, "peak_spread_percentage": 0.8}
    closing = {
        "type": "triangular",
        "status": "closed",
        "spread_percentage": 0.1,
        "peak_spread_percentage": 0.8,
    }
    never = {
        "type": "triangular",
        "status": "closed",
        "spread_percentage": 0.1,
        "peak_spread_percentage": 0.3,
    }
    assert flt.matches(opened)
    assert flt.matches(closing)
    assert not flt.matches(never)
    assert not flt.matches({"type": "direct"})
