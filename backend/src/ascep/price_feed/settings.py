"""Every setting of the price feed, declared once (docs/price_feed.md lists them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ascep.common.config import Setting, port_setting
from ascep.common.errors import ConfigError
from ascep.price_feed.binance_protocol import SUPPORTED_STREAMS
from ascep.price_feed.catalog import DEFAULT_CRYPTO_SYMBOLS, DEFAULT_FOREX_SYMBOLS

SERVICE_NAME = "price_feed"
DEFAULT_PORT = 5002
SOURCE_CHOICES = ("auto", "binance", "simulated", "forex")

SETTINGS: tuple[Setting, ...] = (
    port_setting(DEFAULT_PORT),
    Setting(
        "PRICE_SOURCES",
        tuple,
        ("auto",),
        "Sources to run, comma-separated: `auto` (Binance for crypto with simulated failover, plus "
        "forex), `binance`, `simulated` (crypto), `forex`. `binance,simulated` = failover.",
    ),
    Setting("CRYPTO_SYMBOLS", tuple, DEFAULT_CRYPTO_SYMBOLS, "Crypto symbols (Binance spelling)."),
    Setting("FOREX_SYMBOLS", tuple, DEFAULT_FOREX_SYMBOLS, "Simulated forex pairs (`EUR/USD` spelling)."),
    Setting(
        "BINANCE_WS_URL",
        str,
        "wss://stream.binance.com:9443/stream",
        "Binance combined-stream endpoint; `?streams=...` is appended.",
    ),
    Setting(
        "BINANCE_STREAMS",
        tuple,
        ("bookTicker", "ticker"),
        "Streams per symbol: `bookTicker` (best bid/ask), `trade` (last price), `ticker` (24 h last "
        "price and volume).",
    ),
    Setting(
        "BINANCE_IDLE_TIMEOUT_S",
        float,
        20.0,
        "No valid message for this long: the connection is stalled and replaced.",
        minimum=0.05,
    ),
    Setting("BINANCE_CONNECT_TIMEOUT_S", float, 10.0, "TCP+TLS+handshake timeout.", minimum=0.05),
    Setting("BINANCE_BACKOFF_INITIAL_S", float, 1.0, "First reconnect delay.", minimum=0.01),
    Setting("BINANCE_BACKOFF_CAP_S", float, 60.0, "Longest reconnect delay.", minimum=0.01),
    Setting(
        "BINANCE_HEALTHY_AFTER_S",
        float,
        30.0,
        "A connection healthy this long resets the reconnect backoff.",
        minimum=0.0,
    ),
    Setting(
        "BINANCE_MAX_CONNECTION_AGE_S",
        float,
        84_600.0,
        "Planned reconnect before Binance's forced disconnect at 24 h.",
        minimum=1.0,
    ),
    Setting(
        "BINANCE_MAX_RATE",
        float,
        5.0,
        "Most records per second per Binance symbol (newest kept); 0 publishes every message.",
        minimum=0.0,
    ),
    Setting(
        "FAILOVER_DELAY_S",
        float,
        5.0,
        "`auto`: simulated crypto takes over when Binance has sent nothing valid for this long.",
        minimum=0.05,
    ),
    Setting("SIMULATED_TICK_RATE", float, 1.0, "Simulated crypto ticks per second per symbol.", minimum=0.01),
    Setting("FOREX_TICK_RATE", float, 2.0, "Forex ticks per second per pair.", minimum=0.01),
    Setting(
        "FOREX_MISPRICING_INTERVAL_S",
        float,
        0.0,
        "Seconds between injected triangular mispricings on a forex cross; 0 = never.",
        minimum=0.0,
    ),
    Setting("FOREX_MISPRICING_DURATION_S", float, 5.0, "How long an injected mispricing lasts.", minimum=0.1),
    Setting(
        "FOREX_MISPRICING_SIZE_PCT",
        float,
        0.6,
        "Size of an injected mispricing in % of the cross's mid (0.6 beats 3 x 0.1 % fees).",
        minimum=0.0,
        maximum=20.0,
    ),
    Setting("SIMULATION_SEED", int, 0, "Random seed of the simulators; 0 = a fresh seed per start."),
    Setting(
        "PRICE_HISTORY_MAXLEN",
        int,
        10_000,
        "Records kept per symbol history stream (`MAXLEN ~`).",
        minimum=10,
    ),
    Setting(
        "PUBLISH_BUFFER_SIZE",
        int,
        20_000,
        "Records buffered while Redis is slow or down; the oldest are dropped (counted) beyond.",
        minimum=10,
    ),
    Setting("PUBLISH_BATCH_SIZE", int, 500, "Most records per pipelined Redis round trip.", minimum=1),
)


@dataclass(frozen=True, slots=True)
class SourcePlan:
    """Which sources run, decided from ``PRICE_SOURCES``."""

    crypto: str | None  # "binance", "simulated", "failover" or None
    forex: bool


def source_plan(config: Mapping[str, Any]) -> SourcePlan:
    """Validate ``PRICE_SOURCES`` and ``BINANCE_STREAMS``; raise :class:`ConfigError` naming them."""
    tokens = {token.lower() for token in config["PRICE_SOURCES"]}
    unknown = tokens - set(SOURCE_CHOICES)
    if unknown or not tokens:
        raise ConfigError(
            "PRICE_SOURCES", f"expected some of {', '.join(SOURCE_CHOICES)}, got {sorted(tokens)}"
        )
    streams = set(config["BINANCE_STREAMS"])
    if not streams or streams - set(SUPPORTED_STREAMS):
        raise ConfigError("BINANCE_STREAMS", f"expected some of {', '.join(SUPPORTED_STREAMS)}")
    if "auto" in tokens or {"binance", "simulated"} <= tokens:
        crypto: str | None = "failover"
    elif "binance" in tokens:
        crypto = "binance"
    elif "simulated" in tokens:
        crypto = "simulated"
    else:
        crypto = None
    return SourcePlan(crypto=crypto, forex="auto" in tokens or "forex" in tokens)
