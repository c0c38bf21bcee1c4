"""A simulated market that stays arbitrage-free by construction. Pure: no clock, no I/O.

Instead of letting every pair wander on its own (which would make EUR/JPY drift away from
EUR/USD x USD/JPY and hand the arbitrage service endless fake opportunities), each *asset* has a
value in the market's numeraire that follows geometric Brownian motion, and every pair's mid is
``value(base) / value(quote)``. Crosses are therefore consistent with their legs at every step.
Bid and ask sit a half-spread either side of the mid, rounded outwards to the pair's tick, so
rounding can only widen a spread, never create a crossed triangle.

A *distortion* multiplies one pair's mid for a while: that is how the forex source injects a real,
tradeable triangular mispricing on request.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ascep.common.events import PriceUpdate
from ascep.common.symbols import Pair
from ascep.price_feed.catalog import FALLBACK_ASSET, AssetProfile, PairTraits

SECONDS_PER_YEAR = 365.0 * 24 * 3600


def price_decimals(pair: Pair, mid: float) -> int:
    """Tick precision: forex 5 decimals (JPY quotes 3); crypto ~7 significant digits."""
    if pair.kind == "forex":
        return 3 if pair.quote == "JPY" else 5
    magnitude = math.floor(math.log10(mid)) if mid > 0 else 0
    return max(0, min(8, 6 - magnitude))


@dataclass(frozen=True, slots=True)
class Quote:
    mid: float
    bid: float
    ask: float
    volume: float


class SimulatedMarket:
    """Asset values under GBM; pair quotes derived from them (see the module docstring)."""

    def __init__(
        self,
        pairs: Iterable[Pair],
        assets: Mapping[str, AssetProfile],
        traits: Mapping[str, PairTraits],
        default_traits: PairTraits,
        rng: random.Random,
        source: str,
    ) -> None:
        self.pairs = {pair.symbol: pair for pair in pairs}
        self.source = source
        self._rng = rng
        self._traits = {symbol: traits.get(symbol, default_traits) for symbol in self.pairs}
        needed = {asset for pair in self.pairs.values() for asset in (pair.base, pair.quote)}
        self._vol = {a: assets.get(a, FALLBACK_ASSET).annual_vol for a in needed}
        self.values = {a: assets.get(a, FALLBACK_ASSET).value for a in needed}
        self._volumes = {s: t.daily_volume for s, t in self._traits.items()}
        self.distortions: dict[str, float] = {}

    def step(self, dt_seconds: float) -> None:
        """Advance every asset value by ``dt_seconds`` of GBM (zero drift) and jiggle volumes."""
        dt = dt_seconds / SECONDS_PER_YEAR
        gauss = self._rng.gauss
        for asset, vol in self._vol.items():
            if vol > 0:
                self.values[asset] *= math.exp(-0.5 * vol * vol * dt + vol * math.sqrt(dt) * gauss(0, 1))
        for symbol, typical in ((s, t.daily_volume) for s, t in self._traits.items()):
            drifted = self._volumes[symbol] * math.exp(0.01 * gauss(0, 1))
            self._volumes[symbol] = drifted + 0.01 * (typical - drifted)

    def fair_mid(self, symbol: str) -> float:
        pair = self.pairs[symbol]
        return self.values[pair.base] / self.values[pair.quote]

    def quote(self, symbol: str) -> Quote:
        pair = self.pairs[symbol]
        mid = self.fair_mid(symbol) * self.distortions.get(symbol, 1.0)
        decimals = price_decimals(pair, mid)
        scale = 10**decimals
        half = mid * self._traits[symbol].half_spread_bps / 10_000
        bid = math.floor((mid - half) * scale) / scale
        ask = math.ceil((mid + half) * scale) / scale
        if ask <= bid:
            ask = round(bid + 1 / scale, decimals)
        return Quote(round((bid + ask) / 2, decimals + 1), bid, ask, round(self._volumes[symbol], 2))

    def record(self, symbol: str, ts_ms: int) -> PriceUpdate:
        q = self.quote(symbol)
        return PriceUpdate(symbol, q.mid, q.bid, q.ask, q.volume, self.source, ts_ms)

    def anchor(self, symbol: str, mid: float) -> bool:
        """Move ``symbol``'s base asset so its mid equals ``mid`` (e.g. the last real price).

        Only pairs quoted in an asset with a fixed value (the numeraire) can anchor unambiguously;
        returns whether it did.
        """
        pair = self.pairs.get(symbol)
        if pair is None or mid <= 0 or self._vol.get(pair.quote, 1.0) != 0 or pair.base not in self.values:
            return False
        self.values[pair.base] = mid * self.values[pair.quote]
        return True
