"""JSON Schemas of the arbitrage detector's API: the config ones come from the option declarations
(:func:`ascep.arbitrage.options.json_schema`), the signal from the event definition."""

from __future__ import annotations

from ascep.arbitrage.aliases import with_alias_schemas
from ascep.arbitrage.config import SEVERITIES, SIGNAL_TYPES, DetectorConfig
from ascep.arbitrage.options import json_schema
from ascep.common.event_schemas import event_schema
from ascep.common.events import ArbitrageSignal
from ascep.common.openapi import Component
from ascep.common.openapi.schemas import INTEGER, NUMBER, TIMESTAMP, array, nullable, obj

SIGNAL = Component("ArbitrageSignal", event_schema(ArbitrageSignal))
CONFIG = Component(
    "DetectorConfig", with_alias_schemas(json_schema(DetectorConfig, complete=True), complete=True)
)
CONFIG_UPDATE = Component(
    "DetectorConfigUpdate", with_alias_schemas(json_schema(DetectorConfig, complete=False), complete=False)
)

SIGNAL_LIST = obj(
    {"signals": array(SIGNAL), "count": INTEGER, "total_count": INTEGER, "timestamp": TIMESTAMP}
)

_COUNTS = {"type": "object", "additionalProperties": INTEGER}
STATS = obj(
    {
        "redis": {"enum": ["up", "unavailable"]},
        "signals_by_type": {"type": "object", "properties": dict.fromkeys(SIGNAL_TYPES, INTEGER)},
        "signals_by_severity": {"type": "object", "properties": dict.fromkeys(SEVERITIES, INTEGER)},
        "signals_opened_total": INTEGER,
        "signals_closed_total": INTEGER,
        "open_now": INTEGER,
        "history_size": INTEGER,
        "average_spread_percentage": nullable(NUMBER),
        "best_spread_percentage": nullable(NUMBER),
        "ticks_processed": INTEGER,
        "detection_ms": obj({"p50": nullable(NUMBER), "p99": nullable(NUMBER)}),
        "stale_quotes_skipped": INTEGER,
        "out_of_order_ticks": INTEGER,
        "rejected_records": _COUNTS,
        "quotes": INTEGER,
        "currencies": INTEGER,
        "open_in_process": INTEGER,
        "events": _COUNTS,
        "timestamp": TIMESTAMP,
    },
    # Without Redis the stored half is missing (``redis: unavailable``); the in-process half stays.
    required=["redis", "ticks_processed", "detection_ms", "quotes", "currencies", "events", "timestamp"],
)
