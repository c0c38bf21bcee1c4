"""Scheduled, short-lived triangular mispricings for demos. Pure: the caller passes the time.

Every ``interval`` seconds one cross (a pair whose two assets are both quoted against the
numeraire, e.g. EUR/JPY with EUR/USD and USD/JPY) has its mid multiplied by ``1 ± size`` for
``duration`` seconds. With the default 0.6 % that beats three legs of 0.1 % fees plus spreads, so
an arbitrage detector has something real to find; then the cross snaps back to fair value.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Any

from ascep.common.timeutil import iso_utc
from ascep.price_feed.market_sim import SimulatedMarket

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Mispricing:
    symbol: str
    legs: tuple[str, str]
    factor: float
    started_at: float
    ends_at: float

    def as_dict(self, wall_offset: float) -> dict[str, Any]:
        """JSON-ready, with monotonic times turned into ISO wall-clock times."""
        return {
            "symbol": self.symbol,
            "legs": list(self.legs),
            "deviation_pct": round((self.factor - 1) * 100, 4),
            "started_at": iso_utc((self.started_at + wall_offset) * 1000),
            "ends_at": iso_utc((self.ends_at + wall_offset) * 1000),
        }


def triangle_crosses(market: SimulatedMarket, numeraire: str) -> dict[str, tuple[str, str]]:
    """Crosses whose base and quote each trade against ``numeraire``, with those two legs."""
    against: dict[str, str] = {}
    for symbol, pair in market.pairs.items():
        if pair.quote == numeraire:
            against[pair.base] = symbol
        elif pair.base == numeraire:
            against[pair.quote] = symbol
    return {
        symbol: (against[pair.base], against[pair.quote])
        for symbol, pair in market.pairs.items()
        if numeraire not in (pair.base, pair.quote) and pair.base in against and pair.quote in against
    }


class MispricingInjector:
    """Starts and ends distortions on ``market`` on a fixed schedule."""

    def __init__(
        self,
        market: SimulatedMarket,
        numeraire: str,
        interval: float,
        duration: float,
        size_pct: float,
        rng: random.Random,
        now: float,
    ) -> None:
        self.market = market
        self.crosses = triangle_crosses(market, numeraire)
        self.interval = interval
        self.duration = duration
        self.size = size_pct / 100
        self._rng = rng
        self.active: Mispricing | None = None
        self.injected = 0
        self._next_at = now + interval

    @property
    def enabled(self) -> bool:
        return self.interval > 0 and self.size > 0 and bool(self.crosses)

    def update(self, now: float) -> None:
        """End an expired distortion, start a due one."""
        if self.active is not None and now >= self.active.ends_at:
            self.market.distortions.pop(self.active.symbol, None)
            logger.info("mispricing on %s ended", self.active.symbol)
            self.active = None
        if not self.enabled or self.active is not None or now < self._next_at:
            return
        symbol = self._rng.choice(sorted(self.crosses))
        factor = 1 + self.size if self._rng.random() < 0.5 else 1 - self.size
        self.active = Mispricing(symbol, self.crosses[symbol], factor, now, now + self.duration)
        self.market.distortions[symbol] = factor
        self.injected += 1
        self._next_at = now + self.interval
        logger.info(
            "injected mispricing: %s mid x %.4f for %.1fs (legs %s, %s)",
            symbol,
            factor,
            self.duration,
            *self.crosses[symbol],
        )
