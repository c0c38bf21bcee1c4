"""Default instruments and the realistic parameters the simulator gives them.

Levels are rough late-2024 market levels; volatilities are annualised; half-spreads are in basis
points of the mid and sized like a liquid venue (forex majors ~0.3-0.5 pip, crosses wider). An
asset missing here still simulates, with :data:`FALLBACK_ASSET`, so any configured symbol works.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AssetProfile:
    """One asset's value in the market's numeraire and its annualised volatility."""

    value: float
    annual_vol: float


@dataclass(frozen=True, slots=True)
class PairTraits:
    """Per-pair microstructure: half-spread (bp of mid) and typical 24 h base-asset volume."""

    half_spread_bps: float
    daily_volume: float


FOREX_NUMERAIRE = "USD"

#: Crypto asset values in USDT.
CRYPTO_ASSETS: dict[str, AssetProfile] = {
    "USDT": AssetProfile(1.0, 0.0),
    "BTC": AssetProfile(65_000.0, 0.55),
    "ETH": AssetProfile(3_200.0, 0.70),
    "BNB": AssetProfile(580.0, 0.60),
    "ADA": AssetProfile(0.45, 0.90),
    "SOL": AssetProfile(150.0, 0.95),
    "XRP": AssetProfile(0.60, 0.85),
    "DOGE": AssetProfile(0.15, 1.10),
    "DOT": AssetProfile(6.5, 0.90),
    "LTC": AssetProfile(80.0, 0.75),
    "LINK": AssetProfile(14.0, 0.90),
}

#: Forex currency values in USD (USD/JPY 150 -> JPY = 1/150).
FOREX_ASSETS: dict[str, AssetProfile] = {
    "USD": AssetProfile(1.0, 0.0),
    "EUR": AssetProfile(1.08, 0.07),
    "GBP": AssetProfile(1.27, 0.08),
    "JPY": AssetProfile(1 / 150.0, 0.10),
    "CHF": AssetProfile(1 / 0.88, 0.07),
    "AUD": AssetProfile(0.66, 0.10),
    "CAD": AssetProfile(1 / 1.36, 0.06),
    "NZD": AssetProfile(0.61, 0.10),
}

FALLBACK_ASSET = AssetProfile(1.0, 0.80)

CRYPTO_TRAITS: dict[str, PairTraits] = {
    "BTCUSDT": PairTraits(0.5, 25_000),
    "ETHUSDT": PairTraits(0.6, 400_000),
    "BNBUSDT": PairTraits(1.0, 600_000),
    "ETHBTC": PairTraits(1.5, 60_000),
    "BNBBTC": PairTraits(2.0, 40_000),
    "BNBETH": PairTraits(2.5, 20_000),
}
DEFAULT_CRYPTO_TRAITS = PairTraits(2.0, 1_000_000)

FOREX_TRAITS: dict[str, PairTraits] = {
    "EUR/USD": PairTraits(0.3, 1_200_000_000),
    "GBP/USD": PairTraits(0.5, 600_000_000),
    "USD/JPY": PairTraits(0.4, 900_000_000),
    "USD/CHF": PairTraits(0.6, 300_000_000),
    "AUD/USD": PairTraits(0.6, 350_000_000),
    "USD/CAD": PairTraits(0.6, 350_000_000),
    "NZD/USD": PairTraits(0.8, 150_000_000),
}
DEFAULT_FOREX_TRAITS = PairTraits(1.0, 100_000_000)
