"""PRICE_SOURCES and BINANCE_STREAMS: the plan they describe, and clear errors."""

from __future__ import annotations

import pytest

from ascep.common.config import load_settings
from ascep.common.errors import ConfigError
from ascep.price_feed.settings import SETTINGS, SourcePlan, source_plan


def plan(sources: str, streams: str = "bookTicker,ticker") -> SourcePlan:
    config = load_settings(SETTINGS, environ={"PRICE_SOURCES": sources, "BINANCE_STREAMS": streams})
    return source_plan(config)


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
    config = load_settings(SETTINGS, environ={})
    assert config["PORT"] == 5002
    assert config["PRICE_SOURCES"] == ("auto",)
    assert config["BINANCE_WS_URL"] == "wss://stream.binance.com:9443/stream"
    assert config["FOREX_MISPRICING_INTERVAL_S"] == 0.0
