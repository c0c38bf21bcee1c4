"""PRICE_SOURCES and BINANCE_STREAMS: the plan they describe, and clear errors."""

from __future__ import annotations

import pytest

from ascep.common.errors import ConfigError
from ascep.price_feed.settings import PriceFeedSettings, SourcePlan, source_plan


def plan(sources: str, streams: str = "bookTicker,ticker") -> SourcePlan:
    settings = PriceFeedSettings.load(environ={"PRICE_SOURCES": sources, "BINANCE_STREAMS": streams})
    return source_plan(settings)


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        ("auto", SourcePlan("failover", True)),
        ("binance", SourcePlan("binance", False)),
        ("simulated", SourcePlan("simulated", False)),
        ("forex", SourcePlan(None, True)),
        ("binance,forex", SourcePlan("binance", True)),
        ("Simulated, FOREX", SourcePlan("simulated", True)),
        ("binance,simulated", SourcePlan("failover", False)),
    ],
)
def test_source_plan(sources: str, expected: SourcePlan) -> None:
    assert plan(sources) == expected


@pytest.mark.parametrize(
    ("sources", "streams", "setting"),
    [
        ("kraken", "trade", "PRICE_SOURCES"),
        (",", "trade", "PRICE_SOURCES"),
        ("auto", "depth", "BINANCE_STREAMS"),
    ],
)
def test_bad_values_name_the_setting(sources: str, streams: str, setting: str) -> None:
    with pytest.raises(ConfigError) as info:
        plan(sources, streams)
    assert info.value.setting == setting


def test_defaults_are_documented_values() -> None:
    settings = PriceFeedSettings.load(environ={})
    assert settings.port == 5002
    assert settings.price_sources == ("auto",)
    assert settings.binance_ws_url == "wss://stream.binance.com:9443/stream"
    assert settings.forex_mispricing_interval_s == 0.0
