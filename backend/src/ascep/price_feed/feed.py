"""The price feed as a whole: which sources run, the failover between them, the latest prices.

Built from the typed settings by ``create_app``; the service's runtime calls :meth:`PriceFeed.start` and
:meth:`PriceFeed.stop`. Every source hands records to :meth:`PriceFeed.emit`, which keeps the
in-memory latest record per symbol (what ``GET /prices`` serves, so reads work even while Redis
is down) and queues the record for Redis.

Crypto failover (``auto``): the simulated crypto source stays on standby while Binance delivers.
When Binance has sent nothing valid for ``FAILOVER_DELAY_S`` (including right after start), the
simulated source opens, re-anchored on the last real prices, and marks its records
``source: "simulated"``; the Binance client keeps retrying, and its first valid message closes the
gate again.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

from ascep.common.errors import ConfigError
from ascep.common.events import PriceUpdate
from ascep.common.symbols import Pair, SymbolError, SymbolIndex, crypto_pair, forex_pair
from ascep.common.timeutil import iso_utc
from ascep.price_feed import catalog
from ascep.price_feed.binance_client import BinanceOptions, BinanceSource
from ascep.price_feed.market_sim import SimulatedMarket
from ascep.price_feed.mispricing import MispricingInjector
from ascep.price_feed.publisher import RedisPublisher
from ascep.price_feed.settings import PriceFeedSettings, SourcePlan, source_plan
from ascep.price_feed.simulated_source import SimulatedSource

logger = logging.getLogger(__name__)

#: After start, a feed that has emitted nothing for this long is reported unhealthy.
SILENCE_UNHEALTHY_S = 60.0


def _pairs(symbols: tuple[str, ...], setting: str, parse: Callable[[str], Pair]) -> list[Pair]:
    try:
        return [parse(symbol) for symbol in symbols]
    except SymbolError as exc:
        raise ConfigError(setting, str(exc)) from exc


class PriceFeed:
    """Sources + failover gate + latest prices + publisher (see the module docstring)."""

    def __init__(self, settings: PriceFeedSettings, publisher: RedisPublisher) -> None:
        self.plan: SourcePlan = source_plan(settings)
        self.publisher = publisher
        self.failover_delay = settings.failover_delay_s
        crypto = _pairs(settings.crypto_symbols, "CRYPTO_SYMBOLS", crypto_pair) if self.plan.crypto else []
        forex = _pairs(settings.forex_symbols, "FOREX_SYMBOLS", forex_pair) if self.plan.forex else []
        self.index = SymbolIndex([*crypto, *forex])
        self.latest: dict[str, PriceUpdate] = {}
        self.last_emit_at: float | None = None
        self.started_at = time.monotonic()
        seed = settings.simulation_seed or random.SystemRandom().randrange(1, 2**31)
        self.seed = seed
        self.binance: BinanceSource | None = None
        self.simulated: SimulatedSource | None = None
        self.forex: SimulatedSource | None = None
        if self.plan.crypto in ("binance", "failover"):
            self.binance = BinanceSource(self._binance_options(settings, crypto), self.emit)
        if self.plan.crypto in ("simulated", "failover"):
            market = SimulatedMarket(
                crypto,
                catalog.CRYPTO_ASSETS,
                catalog.CRYPTO_TRAITS,
                catalog.DEFAULT_CRYPTO_TRAITS,
                random.Random(seed),
                "simulated",
            )
            failover = self.plan.crypto == "failover"
            self.simulated = SimulatedSource(
                "simulated",
                market,
                settings.simulated_tick_rate,
                self.emit,
                gate=self._crypto_gate if failover else None,
                on_activate=self._anchor_on_real_prices if failover else None,
            )
        if forex:
            self.forex = self._forex_source(settings, forex, random.Random(seed + 1))

    @staticmethod
    def _binance_options(settings: PriceFeedSettings, pairs: list[Pair]) -> BinanceOptions:
        rate = settings.binance_max_rate
        return BinanceOptions(
            url=settings.binance_ws_url,
            symbols=tuple(pair.symbol for pair in pairs),
            streams=settings.binance_streams,
            idle_timeout=settings.binance_idle_timeout_s,
            connect_timeout=settings.binance_connect_timeout_s,
            backoff_initial=settings.binance_backoff_initial_s,
            backoff_cap=max(settings.binance_backoff_cap_s, settings.binance_backoff_initial_s),
            healthy_after=settings.binance_healthy_after_s,
            max_connection_age=settings.binance_max_connection_age_s,
            min_interval=1.0 / rate if rate > 0 else 0.0,
        )

    def _forex_source(
        self, settings: PriceFeedSettings, pairs: list[Pair], rng: random.Random
    ) -> SimulatedSource:
        market = SimulatedMarket(
            pairs, catalog.FOREX_ASSETS, catalog.FOREX_TRAITS, catalog.DEFAULT_FOREX_TRAITS, rng, "forex"
        )
        injector = MispricingInjector(
            market,
            catalog.FOREX_NUMERAIRE,
            interval=settings.forex_mispricing_interval_s,
            duration=settings.forex_mispricing_duration_s,
            size_pct=settings.forex_mispricing_size_pct,
            rng=rng,
            now=time.monotonic(),
        )
        return SimulatedSource("forex", market, settings.forex_tick_rate, self.emit, injector=injector)

    # --- the one sink of every source ---
    def emit(self, record: PriceUpdate, received_ns: int) -> None:
        self.latest[record.symbol] = record
        self.last_emit_at = time.monotonic()
        self.publisher.submit(record, received_ns)

    # --- failover ---
    def _crypto_gate(self) -> bool:
        """Open (simulated publishes) while Binance is silent for longer than the failover delay."""
        if self.binance is not None and self.binance.is_live(self.failover_delay):
            return False
        return time.monotonic() - self.started_at >= self.failover_delay

    def _anchor_on_real_prices(self, market: SimulatedMarket) -> None:
        anchored = [
            symbol
            for symbol, record in list(self.latest.items())
            if record.source == "binance" and market.anchor(symbol, record.price)
        ]
        logger.warning(
            "Binance silent for %.1fs: simulated crypto takes over (anchored on %d real prices)",
            self.failover_delay,
            len(anchored),
        )

    def active_crypto_source(self) -> str | None:
        if self.simulated is not None and self.simulated.active:
            return "simulated"
        if self.binance is not None and self.binance.is_live(self.failover_delay):
            return "binance"
        return None

    # --- lifecycle ---
    def sources(self) -> list[BinanceSource | SimulatedSource]:
        return [s for s in (self.binance, self.simulated, self.forex) if s is not None]

    def start(self) -> None:
        self.started_at = time.monotonic()
        self.publisher.start()
        for source in self.sources():
            source.start()
        logger.info(
            "price feed started: crypto=%s forex=%s, %d symbols, seed %d",
            self.plan.crypto,
            self.plan.forex,
            len(self.index),
            self.seed,
        )

    def stop(self, flush_timeout: float = 3.0) -> None:
        for source in self.sources():
            source.stop()
        self.publisher.stop(flush_timeout)
        logger.info(
            "price feed stopped: %d records published, %d dropped",
            self.publisher.published,
            self.publisher.dropped,
        )

    # --- reports ---
    def sources_report(self) -> dict[str, Any]:
        return {
            "sources": {source.name: source.report() for source in self.sources()},
            "crypto_mode": self.plan.crypto,
            "active_crypto_source": self.active_crypto_source(),
            "timestamp": iso_utc(),
        }

    def seconds_since_emit(self) -> float | None:
        return None if self.last_emit_at is None else time.monotonic() - self.last_emit_at
