"""Every setting of the price feed, declared once (docs/price_feed.md lists them)."""

from __future__ import annotations

from dataclasses import dataclass

from ascep.common.config import CommonSettings, Setting, port_setting, setting
from ascep.common.errors import ConfigError
from ascep.common.instruments import InstrumentSettings
from ascep.price_feed.binance_protocol import SUPPORTED_STREAMS
from ascep.service_registry import registered_port

SERVICE_NAME = "price_feed"

SOURCE_CHOICES = ("auto", "binance", "simulated", "forex")


@dataclass(frozen=True, kw_only=True)
class PriceFeedSettings(InstrumentSettings, CommonSettings):
    """Every setting of the price feed, typed; built once by ``create_app``."""

    port: int = port_setting(registered_port(SERVICE_NAME))
    price_sources: tuple[str, ...] = setting(
        ("auto",),
        "Sources to run, comma-separated: `auto` (Binance for crypto with simulated failover, plus "
        "forex), `binance`, `simulated` (crypto), `forex`. `binance,simulated` = failover.",
    )
    binance_ws_url: str = setting(
        "wss://stream.binance.com:9443/stream",
        "Binance combined-stream endpoint; `?streams=...` is appended.",
    )
    binance_streams: tuple[str, ...] = setting(
        ("bookTicker", "ticker"),
        "Streams per symbol: `bookTicker` (best bid/ask), `trade` (last price), `ticker` (24 h last "
        "price and volume).",
    )
    binance_idle_timeout_s: float = setting(
        20.0,
        "No valid message for this long: the connection is stalled and replaced.",
        minimum=0.05,
    )
    binance_connect_timeout_s: float = setting(10.0, "TCP+TLS+handshake timeout.", minimum=0.05)
    binance_backoff_initial_s: float = setting(1.0, "First reconnect delay.", minimum=0.01)
    binance_backoff_cap_s: float = setting(60.0, "Longest reconnect delay.", minimum=0.01)
    binance_healthy_after_s: float = setting(
        30.0,
        "A connection healthy this long resets the reconnect backoff.",
        minimum=0.0,
    )
    binance_max_connection_age_s: float = setting(
        84_600.0,
        "Planned reconnect before Binance's forced disconnect at 24 h.",
        minimum=1.0,
    )
    binance_max_rate: float = setting(
        5.0,
        "Most records per second per Binance symbol (newest kept); 0 publishes every message.",
        minimum=0.0,
    )
    failover_delay_s: float = setting(
        5.0,
        "`auto`: simulated crypto takes over when Binance has sent nothing valid for this long.",
        minimum=0.05,
    )
    simulated_tick_rate: float = setting(1.0, "Simulated crypto ticks per second per symbol.", minimum=0.01)
    forex_tick_rate: float = setting(2.0, "Forex ticks per second per pair.", minimum=0.01)
    forex_mispricing_interval_s: float = setting(
        0.0,
        "Seconds between injected triangular mispricings on a forex cross; 0 = never.",
        minimum=0.0,
    )
    forex_mispricing_duration_s: float = setting(5.0, "How long an injected mispricing lasts.", minimum=0.1)
    forex_mispricing_size_pct: float = setting(
        0.6,
        "Size of an injected mispricing in % of the cross's mid (0.6 beats 3 x 0.1 % fees).",
        minimum=0.0,
        maximum=20.0,
    )
    simulation_seed: int = setting(0, "Random seed of the simulators; 0 = a fresh seed per start.")
    price_history_maxlen: int = setting(
        10_000,
        "Records kept per symbol history stream (`MAXLEN ~`).",
        minimum=10,
    )
    publish_buffer_size: int = setting(
        20_000,
        "Records buffered while Redis is slow or down; the oldest are dropped (counted) beyond.",
        minimum=10,
    )
    publish_batch_size: int = setting(500, "Most records per pipelined Redis round trip.", minimum=1)
    price_ingest_max_batch: int = setting(
        1000,
        "Most ticks in one `POST /prices`; a larger batch is a 422 and nothing of it is published.",
        minimum=1,
        maximum=100_000,
    )
    price_ingest_max_sources: int = setting(
        16,
        "Most distinct `source` names pushed ticks may carry (each is listed in `/sources`); a new one "
        "beyond is a 422.",
        minimum=1,
    )
    price_ingest_max_clock_skew_s: float = setting(
        5.0,
        "How far ahead of this clock a pushed tick's time may be (it is then taken as now); further "
        "is a 422.",
        minimum=0.0,
    )


SETTINGS: tuple[Setting, ...] = PriceFeedSettings.own()


@dataclass(frozen=True, slots=True)
class SourcePlan:
    """Which sources run, decided from ``PRICE_SOURCES``."""

    crypto: str | None  # "binance", "simulated", "failover" or None
    forex: bool


def source_plan(settings: PriceFeedSettings) -> SourcePlan:
    """Validate ``PRICE_SOURCES`` and ``BINANCE_STREAMS``; raise :class:`ConfigError` naming them."""
    tokens = {token.lower() for token in settings.price_sources}
    unknown = tokens - set(SOURCE_CHOICES)
    if unknown or not tokens:
        raise ConfigError(
            "PRICE_SOURCES", f"expected some of {', '.join(SOURCE_CHOICES)}, got {sorted(tokens)}"
        )
    streams = set(settings.binance_streams)
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
