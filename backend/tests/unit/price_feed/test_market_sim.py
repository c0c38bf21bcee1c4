"""The simulated market: realistic quotes that stay free of triangular arbitrage."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from ascep.common import instruments
from ascep.common.symbols import crypto_pair, forex_pair
from ascep.price_feed import catalog
from ascep.price_feed.market_sim import SECONDS_PER_YEAR, SimulatedMarket, price_decimals
from unit.price_feed.triangles import triangle_edges


def forex_market(seed: int = 7) -> SimulatedMarket:
    pairs = [forex_pair(s) for s in instruments.DEFAULT_FOREX_SYMBOLS]
    return SimulatedMarket(
        pairs,
        catalog.FOREX_ASSETS,
        catalog.FOREX_TRAITS,
        catalog.DEFAULT_FOREX_TRAITS,
        random.Random(seed),
        "forex",
    )


def crypto_market(seed: int = 7) -> SimulatedMarket:
    pairs = [crypto_pair(s) for s in instruments.DEFAULT_CRYPTO_SYMBOLS]
    return SimulatedMarket(
        pairs,
        catalog.CRYPTO_ASSETS,
        catalog.CRYPTO_TRAITS,
        catalog.DEFAULT_CRYPTO_TRAITS,
        random.Random(seed),
        "simulated",
    )


def forex_quotes(market: SimulatedMarket) -> dict[str, tuple[float, float]]:
    return {s: (market.quote(s).bid, market.quote(s).ask) for s in market.pairs}


def test_default_catalog_has_ten_plus_pairs_each_with_crosses() -> None:
    assert len(instruments.DEFAULT_CRYPTO_SYMBOLS) >= 13
    assert len(instruments.DEFAULT_FOREX_SYMBOLS) >= 10
    assert {"ETHBTC", "BNBBTC", "BNBETH"} <= set(instruments.DEFAULT_CRYPTO_SYMBOLS)


@pytest.mark.parametrize(
    ("symbol", "low", "high", "max_spread_bp"),
    [
        ("EUR/USD", 1.0, 1.2, 1.5),
        ("USD/JPY", 130, 170, 1.5),
        ("GBP/JPY", 170, 210, 3.0),
        ("EUR/GBP", 0.8, 0.9, 3.0),
    ],
)
def test_forex_levels_and_spreads_are_realistic(
    symbol: str, low: float, high: float, max_spread_bp: float
) -> None:
    quote = forex_market().quote(symbol)
    assert low < quote.bid < quote.mid < quote.ask < high
    assert (quote.ask - quote.bid) / quote.mid * 10_000 <= max_spread_bp
    assert quote.volume > 0


def test_crosses_stay_consistent_within_spread_at_every_step() -> None:
    market = forex_market()
    worst = -1.0
    for _ in range(2000):
        market.step(0.5)
        edges = triangle_edges(forex_quotes(market))
        assert set(edges) == {"EUR/GBP", "EUR/JPY", "GBP/JPY", "EUR/CHF", "AUD/JPY", "CHF/JPY"}
        worst = max(worst, *edges.values())
    assert worst <= 0, f"a cross left the spread of its legs by {worst:.2e}"


def test_crypto_crosses_are_consistent_too() -> None:
    market = crypto_market()
    for _ in range(200):
        market.step(1.0)
    q = {s: market.quote(s) for s in ("ETHBTC", "ETHUSDT", "BTCUSDT")}
    assert q["ETHUSDT"].bid / q["BTCUSDT"].ask <= q["ETHBTC"].ask
    assert q["ETHUSDT"].ask / q["BTCUSDT"].bid >= q["ETHBTC"].bid


def test_volatility_matches_the_annualised_parameter() -> None:
    market = forex_market(seed=3)
    dt = 60.0
    returns = []
    previous = market.values["EUR"]
    for _ in range(4000):
        market.step(dt)
        returns.append(math.log(market.values["EUR"] / previous))
        previous = market.values["EUR"]
    annualised = statistics.stdev(returns) / math.sqrt(dt / SECONDS_PER_YEAR)
    assert annualised == pytest.approx(catalog.FOREX_ASSETS["EUR"].annual_vol, rel=0.1)


def test_prices_are_rounded_outwards_to_the_tick() -> None:
    market = crypto_market()
    for symbol in market.pairs:
        quote = market.quote(symbol)
        decimals = price_decimals(market.pairs[symbol], quote.mid)
        assert round(quote.bid, decimals) == quote.bid
        assert round(quote.ask, decimals) == quote.ask
        assert quote.bid < quote.mid < quote.ask
    assert price_decimals(crypto_pair("BTCUSDT"), 65000) == 2
    assert price_decimals(forex_pair("USD/JPY"), 150) == 3
    assert price_decimals(forex_pair("EUR/USD"), 1.08) == 5


def test_distortion_creates_an_opportunity_larger_than_three_fees() -> None:
    market = forex_market()
    market.distortions["EUR/JPY"] = 1.006
    edges = triangle_edges(forex_quotes(market))
    assert edges["EUR/JPY"] > 0.003  # three legs at 0.1 %
    assert all(edge <= 0 for symbol, edge in edges.items() if symbol != "EUR/JPY")


def test_anchor_moves_the_base_asset_and_the_crosses_follow() -> None:
    market = crypto_market()
    assert market.anchor("BTCUSDT", 50_000.0)
    assert market.anchor("ETHUSDT", 2_500.0)
    assert market.quote("BTCUSDT").mid == pytest.approx(50_000.0, rel=1e-4)
    assert market.quote("ETHBTC").mid == pytest.approx(0.05, rel=1e-3)
    assert not market.anchor("ETHBTC", 0.07)  # quoted in a moving asset: ambiguous
    assert not market.anchor("NOPEUSDT", 1.0)


def test_record_is_a_price_update_with_mid_as_price() -> None:
    record = forex_market().record("EUR/USD", 1234)
    assert record.symbol == "EUR/USD"
    assert record.source == "forex"
    assert record.ts == 1234
    assert record.bid is not None
    assert record.ask is not None
    assert record.price == pytest.approx((record.bid + record.ask) / 2)
