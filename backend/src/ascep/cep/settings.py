"""Every setting of the CEP engine, declared once (the README's configuration table lists them)."""

from __future__ import annotations

from dataclasses import dataclass

from ascep.cep.limits import Limits
from ascep.common.config import CommonSettings, Setting, port_setting, setting
from ascep.common.egress import EgressPolicy
from ascep.common.errors import ConfigError
from ascep.common.instruments import InstrumentSettings
from ascep.service_registry import registered_port

SERVICE_NAME = "cep_engine"


@dataclass(frozen=True, kw_only=True)
class CepSettings(InstrumentSettings, CommonSettings):
    """Every setting of the CEP engine, typed; built once by ``create_app``.

    The instruments (``CRYPTO_SYMBOLS``, ``FOREX_SYMBOLS``) are the price feed's: rules in the
    original shape name symbols the way people type them, resolved against the same index."""

    port: int = port_setting(registered_port(SERVICE_NAME))
    cep_max_window_events: int = setting(10_000, "Most events a rule keeps per partition window.", minimum=1)
    cep_max_partitions: int = setting(
        10_000,
        "Most partitions per rule; beyond, the least recently active tenth is evicted.",
        minimum=1,
    )
    cep_max_pending: int = setting(1_000, "Most open sequence/absence matches per rule partition.", minimum=1)
    cep_max_disorder_ms: int = setting(
        2_000,
        "Events up to this much older than the newest of their partition are still evaluated.",
        minimum=0,
    )
    cep_max_rules: int = setting(
        200,
        "Most rules stored (shared by every engine process); creating one more gets 409.",
        minimum=1,
    )
    cep_max_rule_bytes: int = setting(
        64 * 1024,
        "Largest rule (its canonical JSON, in bytes); a larger one gets 422.",
        minimum=1024,
    )
    max_json_body_bytes: int = setting(
        8 * 1024 * 1024,
        "Largest JSON request body (rule tests carry sample events); larger gets 413.",
        minimum=1,
    )
    cep_alerts_max: int = setting(1_000, "Alerts kept in Redis for `GET /alerts`.", minimum=1)
    cep_tick_interval_s: float = setting(
        0.2,
        "How often timers (`absence`) are checked against the wall clock.",
        minimum=0.01,
    )
    cep_webhook_workers: int = setting(4, "Concurrent webhook deliveries.", minimum=1, maximum=64)
    cep_webhook_queue_size: int = setting(
        1_000,
        "Webhook deliveries waiting; beyond, new ones are dropped (counted).",
        minimum=1,
    )
    webhook_allowed_hosts: tuple[str, ...] = setting(
        (),
        "Where CEP webhooks may go (comma-separated): `public` (any host whose every address is "
        "public), host names (`hooks.example.com`, `.example.com` with subdomains), IPs and "
        "networks (`10.1.2.3`, `[fd00::1]`, `10.0.0.0/8`). Empty: `public`. Private, loopback, "
        "link-local, multicast and metadata addresses only when an IP/network entry covers them.",
    )


SETTINGS: tuple[Setting, ...] = CepSettings.own()


def limits_from(settings: CepSettings) -> Limits:
    """The engine's bounds (the engine is plain Python and knows nothing of settings)."""
    return Limits(
        max_window_events=settings.cep_max_window_events,
        max_partitions=settings.cep_max_partitions,
        max_pending=settings.cep_max_pending,
        max_disorder_ms=settings.cep_max_disorder_ms,
    )


def egress_policy_from(settings: CepSettings) -> EgressPolicy:
    """``WEBHOOK_ALLOWED_HOSTS`` compiled; a malformed entry stops the start with its reason."""
    try:
        return EgressPolicy.from_entries(settings.webhook_allowed_hosts)
    except ValueError as exc:
        raise ConfigError("WEBHOOK_ALLOWED_HOSTS", str(exc)) from exc
