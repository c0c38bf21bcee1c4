"""Injected mispricings: scheduled, real across bid/ask, and gone afterwards."""

from __future__ import annotations

import random

from ascep.price_feed.mispricing import MispricingInjector, triangle_crosses
from unit.price_feed.test_market_sim import forex_market, forex_quotes
from unit.price_feed.triangles import triangle_edges


def test_triangle_crosses_finds_each_cross_with_its_two_legs() -> None:
    crosses = triangle_crosses(forex_market(), "USD")
    assert crosses["EUR/JPY"] == ("EUR/USD", "USD/JPY")
    assert crosses["EUR/GBP"] == ("EUR/USD", "GBP/USD")
    assert "EUR/USD" not in crosses


def test_injection_starts_on_schedule_beats_fees_and_ends() -> None:
    market = forex_market()
    injector = MispricingInjector(
        market, "USD", interval=10, duration=3, size_pct=0.6, rng=random.Random(1), now=100
    )
    injector.update(109.9)
    assert injector.active is None
    assert max(triangle_edges(forex_quotes(market)).values()) <= 0
    injector.update(110)
    active = injector.active
    assert active is not None
    assert active.legs == triangle_crosses(market, "USD")[active.symbol]
    edges = triangle_edges(forex_quotes(market))
    assert edges[active.symbol] > 0.003 + 0.001  # beats 3 x 0.1 % fees with room to spare
    description = active.as_dict(wall_offset=0)
    assert abs(description["deviation_pct"]) == 0.6
    injector.update(112.9)
    assert injector.active is active
    injector.update(113)
    assert injector.active is None
    assert max(triangle_edges(forex_quotes(market)).values()) <= 0
    injector.update(120)
    assert injector.injected == 2


def test_interval_zero_disables_injection() -> None:
    market = forex_market()
    injector = MispricingInjector(
        market, "USD", interval=0, duration=3, size_pct=0.6, rng=random.Random(1), now=0
    )
    for t in range(0, 1000, 7):
        injector.update(t)
    assert not injector.enabled
    assert injector.injected == 0
    assert market.distortions == {}
