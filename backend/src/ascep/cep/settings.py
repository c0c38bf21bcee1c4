"""Every setting of the CEP engine, declared once (the README's configuration table lists them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ascep.cep.limits import Limits
from ascep.common.config import Setting, port_setting

SERVICE_NAME = "cep_engine"
DEFAULT_PORT = 5004

SETTINGS: tuple[Setting, ...] = (
    port_setting(DEFAULT_PORT),
    Setting(
        "CEP_AUTOSTART",
        bool,
        True,
        "Subscribe to the event streams as soon as the app is created (also under a WSGI server).",
    ),
    Setting(
        "CEP_MAX_WINDOW_EVENTS", int, 10_000, "Most events a rule keeps per partition window.", minimum=1
    ),
    Setting(
        "CEP_MAX_PARTITIONS",
        int,
        10_000,
        "Most partitions per rule; beyond, the least recently active tenth is evicted.",
        minimum=1,
    ),
    Setting(
        "CEP_MAX_PENDING", int, 1_000, "Most open sequence/absence matches per rule partition.", minimum=1
    ),
    Setting(
        "CEP_MAX_DISORDER_MS",
        int,
        2_000,
        "Events up to this much older than the newest of their partition are still evaluated.",
        minimum=0,
    ),
    Setting(
        "CEP_MAX_RULES",
        int,
        200,
        "Most rules stored (shared by every engine process); creating one more gets 409.",
        minimum=1,
    ),
    Setting(
        "CEP_MAX_RULE_BYTES",
        int,
        64 * 1024,
        "Largest rule (its canonical JSON, in bytes); a larger one gets 422.",
        minimum=1024,
    ),
    Setting(
        "MAX_JSON_BODY_BYTES",
        int,
        8 * 1024 * 1024,
        "Largest JSON request body (rule tests carry sample events); larger gets 413.",
        minimum=1,
    ),
    Setting("CEP_ALERTS_MAX", int, 1_000, "Alerts kept in Redis for `GET /alerts`.", minimum=1),
    Setting(
        "CEP_TICK_INTERVAL_S",
        float,
        0.2,
        "How often timers (`absence`) are checked against the wall clock.",
        minimum=0.01,
    ),
    Setting("CEP_WEBHOOK_WORKERS", int, 4, "Concurrent webhook deliveries.", minimum=1, maximum=64),
    Setting(
        "CEP_WEBHOOK_QUEUE_SIZE",
        int,
        1_000,
        "Webhook deliveries waiting; beyond, new ones are dropped (counted).",
        minimum=1,
    ),
)


def limits_from(config: Mapping[str, Any]) -> Limits:
    return Limits(
        max_window_events=config["CEP_MAX_WINDOW_EVENTS"],
        max_partitions=config["CEP_MAX_PARTITIONS"],
        max_pending=config["CEP_MAX_PENDING"],
        max_disorder_ms=config["CEP_MAX_DISORDER_MS"],
    )
