"""The feed's wiring decisions: which sources exist, and when simulated crypto takes over."""

from __future__ import annotations

import time

import pytest

from ascep.common.errors import ConfigError
from ascep.common.events import PriceUpdate
from ascep.price_feed.feed import PriceFeed
from ascep.price_feed.publisher import RedisPublisher
from ascep.price_feed.settings import PriceFeedSettings


def unreachable() -> None:
    raise AssertionError("no Redis in unit tests")


def feed(**env: str) -> PriceFeed:
    settings = PriceFeedSettings.load(environ={"SIMULATION_SEED": "5", **env})
    publisher = RedisPublisher(unreachable, history_maxlen=10, capacity=1000, batch_size=10)  # type: ignore[arg-type]
    return PriceFeed(settings, publisher)


def test_auto_builds_binance_standby_simulator_and_forex() -> None:
    f = feed()
    assert [s.name for s in f.sources()] == ["binance", "simulated", "forex"]
    assert len(f.index) == 28
    assert f.index.resolve("eur-usd") is not None


def test_simulated_only_has_no_binance_and_is_never_gated() -> None:
    f = feed(PRICE_SOURCES="simulated")
    assert [s.name for s in f.sources()] == ["simulated"]
    assert f.binance is None


def test_failover_gate_follows_binance_liveness() -> None:
    f = feed(FAILOVER_DELAY_S="1.0")
    assert f.binance is not None
    f.started_at = time.monotonic()
    assert not f._crypto_gate()  # grace period right after start
    f.started_at -= 2
    assert f._crypto_gate()  # Binance silent for longer than the delay
    f.binance.last_valid_at = time.monotonic()
    assert not f._crypto_gate()  # Binance delivers: simulated stands by
    assert f.active_crypto_source() == "binance"
    f.binance.last_valid_at -= 1.5
    assert f._crypto_gate()


def test_failover_anchors_the_simulator_on_the_last_real_prices() -> None:
    f = feed()
    assert f.simulated is not None
    f.emit(PriceUpdate("BTCUSDT", 42_000.0, 41_999.0, 42_001.0, 1.0, "binance", 1), 0)
    f.emit(PriceUpdate("EUR/USD", 1.5, 1.49, 1.51, 1.0, "forex", 1), 0)
    f._anchor_on_real_prices(f.simulated.market)
    assert f.simulated.market.quote("BTCUSDT").mid == pytest.approx(42_000.0, rel=1e-4)
    assert f.publisher.pending() == 2


def test_bad_symbols_fail_at_start_naming_the_setting() -> None:
    with pytest.raises(ConfigError) as info:
        feed(CRYPTO_SYMBOLS="BTCUSDT,NOTASYMBOL")
    assert info.value.setting == "CRYPTO_SYMBOLS"
    with pytest.raises(ConfigError) as info:
        feed(FOREX_SYMBOLS="EUR/USD,EURO")
    assert info.value.setting == "FOREX_SYMBOLS"
