"""Declared, typed settings read from the environment.

Each service declares its settings once (name, type, default, help) — like mitmproxy's options —
so that defaults live in one place, a malformed value fails at start-up with an error naming the
variable, and the README's configuration table can be checked against the declarations.
Precedence, lowest first: declared default, environment, explicit overrides (tests).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ascep.common.errors import ConfigError
from ascep.common.jsonparse import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"expected one of {sorted(_TRUE | _FALSE)}")


def parse_csv(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


_PARSERS: dict[type, Callable[[str], Any]] = {
    str: str,
    int: int,
    float: float,
    bool: parse_bool,
    tuple: parse_csv,
}


@dataclass(frozen=True)
class Setting:
    """One configuration variable: its type, default and why it exists."""

    name: str
    type: type
    default: Any
    help: str
    secret: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    #: Production refuses to start unless the variable is given explicitly: its default is only
    #: right on a developer's machine (``ALLOWED_HOSTS``).
    required_in_production: bool = False

    def parse(self, raw: Any) -> Any:
        """Convert and validate ``raw`` (a string from the environment or a typed override)."""
        if isinstance(raw, str) and self.type is not str:
            try:
                value = _PARSERS[self.type](raw)
            except (ValueError, KeyError) as exc:
                raise ConfigError(self.name, f"{raw!r} is not a valid {self.type.__name__}: {exc}") from exc
        elif self.type is tuple and isinstance(raw, list | tuple):
            value = tuple(raw)
        elif self.type is float and isinstance(raw, int) and not isinstance(raw, bool):
            value = float(raw)
        else:
            value = raw
        if value is not None and not isinstance(value, self.type):
            raise ConfigError(self.name, f"expected {self.type.__name__}, got {type(value).__name__}")
        self._check_range(value)
        return value

    def _check_range(self, value: Any) -> None:
        if value is None:
            return
        if self.choices is not None and value not in self.choices:
            raise ConfigError(self.name, f"{value!r} is not one of {', '.join(self.choices)}")
        if self.minimum is not None and value < self.minimum:
            raise ConfigError(self.name, f"{value} is below the minimum {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise ConfigError(self.name, f"{value} is above the maximum {self.maximum}")


#: Settings every service reads.
COMMON_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "ASCEP_ENV",
        str,
        "development",
        "`production` refuses to start without a real SECRET_KEY and an explicit ALLOWED_HOSTS.",
        choices=("development", "production", "test"),
    ),
    Setting("REDIS_URL", str, "redis://127.0.0.1:6379/0", "Redis used for events, state and statistics."),
    Setting(
        "REDIS_KEY_PREFIX",
        str,
        "ascep:",
        "Prefix of every Redis key ASCEP writes (Celery's included); read once at process start, "
        "the same for every process of a stack. The public event channels are not prefixed.",
    ),
    Setting(
        "REDIS_DATA_LOSS_REPORT_S",
        float,
        3600.0,
        "How long a service's `/health` stays `degraded` after it noticed that Redis lost its data "
        "(0: until the service restarts).",
        minimum=0,
    ),
    Setting("HOST", str, "127.0.0.1", "Interface to listen on (`0.0.0.0` in containers)."),
    Setting(
        "LOG_LEVEL",
        str,
        "INFO",
        "Python logging level.",
        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
    ),
    Setting(
        "SECRET_KEY",
        str,
        "",
        "Flask secret. Empty: a random per-process key (development only).",
        secret=True,
    ),
    Setting(
        "ALLOWED_HOSTS",
        tuple,
        ("localhost", "127.0.0.1", "[::1]"),
        "Host names this process answers to (any port; `.example.com` adds subdomains, `*` any "
        "host); other `Host` headers get 400 `HOST_NOT_ALLOWED`. Required when ASCEP_ENV=production.",
        required_in_production=True,
    ),
    Setting(
        "ASYNC_MODE",
        str,
        "eventlet",
        "Concurrency model: eventlet, gevent or threading.",
        choices=("eventlet", "gevent", "threading"),
    ),
    Setting(
        "MAX_JSON_DEPTH",
        int,
        DEFAULT_MAX_DEPTH,
        "Deepest nesting of arrays/objects accepted in a JSON request body; deeper gets 400.",
        minimum=1,
        maximum=256,
    ),
    Setting(
        "MAX_JSON_BODY_BYTES",
        int,
        DEFAULT_MAX_BYTES,
        "Largest JSON request body a service reads; larger gets 413.",
        minimum=1,
    ),
    Setting(
        "HTTP_MAX_CONNECTIONS",
        int,
        10_000,
        "Client connections served at once, idle keep-alive ones included (capped by the open-file "
        "limit). At the limit the longest-idle connection is closed to make room.",
        minimum=16,
    ),
    Setting(
        "HTTP_BACKLOG",
        int,
        1024,
        "Listen backlog: connections the kernel queues before they are accepted (capped by "
        "`net.core.somaxconn`).",
        minimum=1,
    ),
    Setting(
        "HTTP_IDLE_TIMEOUT",
        float,
        30.0,
        "Seconds a connection may wait for its next request (keep-alive) before it is closed.",
        minimum=0.1,
    ),
    Setting(
        "HTTP_HEADER_TIMEOUT",
        float,
        10.0,
        "Seconds from a request's first byte to the end of its headers; a slower client gets 408.",
        minimum=0.1,
    ),
    Setting(
        "HTTP_BODY_TIMEOUT",
        float,
        30.0,
        "Longest silence while a request body arrives (or a response waits for the client to read "
        "it); then the connection is closed.",
        minimum=0.1,
    ),    Setting(
        "DISCOVERY_HEARTBEAT_S",
        float,
        1.0,
        "Seconds between a service instance's heartbeats in Redis (service discovery).",
        minimum=0.05,
        maximum=60,
    ),
    Setting(
        "DISCOVERY_TTL",
        float,
        3.0,
        "Seconds after its last heartbeat that an instance leaves routing (a clean shutdown leaves "
        "at once); more than `DISCOVERY_HEARTBEAT_S`.",
        minimum=0.1,
        maximum=600,
    ),
    Setting(
        "DISCOVERY_ADVERTISE_HOST",
        str,
        "",
        "Host name gateways should call this instance at; empty: `HOST`, or the machine's host "
        "name when `HOST` is a wildcard (`0.0.0.0`).",
    ),
    Setting(
        "DISCOVERY_WEIGHT",
        int,
        1,
        "Relative weight this instance announces (used by `weighted` and `least_request`).",
        minimum=1,
        maximum=1000,
    ),
)


def port_setting(default: int) -> Setting:
    """The ``PORT`` setting with a service's registry port as default."""
    return Setting("PORT", int, default, "TCP port this service listens on.", minimum=1, maximum=65535)


def load_settings(
    declared: Iterable[Setting],
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Resolve every declared setting; raise :class:`ConfigError` naming the first bad one."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    values: dict[str, Any] = {}
    defaulted: list[Setting] = []
    for setting in declared:
        if setting.name in overrides:
            values[setting.name] = setting.parse(overrides.pop(setting.name))
        elif setting.name in environ:
            values[setting.name] = setting.parse(environ[setting.name])
        else:
            values[setting.name] = setting.default
            defaulted.append(setting)
    values.update(overrides)  # undeclared keys (e.g. Flask's TESTING) pass through untouched
    _finalise_secret_key(values)
    _require_explicit_in_production(values, defaulted)
    return values


def _require_explicit_in_production(values: Mapping[str, Any], defaulted: Iterable[Setting]) -> None:
    if values.get("ASCEP_ENV") != "production":
        return
    for setting in defaulted:
        if setting.required_in_production:
            raise ConfigError(setting.name, "must be set explicitly when ASCEP_ENV=production")


def _finalise_secret_key(values: dict[str, Any]) -> None:
    """No usable default secret: production demands one, development gets a random one."""
    if "SECRET_KEY" not in values:
        return
    key = values["SECRET_KEY"]
    if values.get("ASCEP_ENV") == "production" and len(key or "") < 32:
        raise ConfigError("SECRET_KEY", "must be set to at least 32 characters when ASCEP_ENV=production")
    if not key:
        values["SECRET_KEY"] = secrets.token_urlsafe(32)


def public_summary(declared: Iterable[Setting], values: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as shown by ``/status``: secrets and credentials masked."""
    summary: dict[str, Any] = {}
    for setting in declared:
        value = values.get(setting.name)
        if setting.secret:
            value = "***" if value else ""
        elif isinstance(value, str) and "@" in value and "://" in value:
            value = _mask_url_credentials(value)
        elif isinstance(value, tuple):
            value = list(value)
        summary[setting.name] = value
    return summary


def _mask_url_credentials(url: str) -> str:
    scheme, _, rest = url.partition("://")
    _, _, host = rest.rpartition("@")
    return f"{scheme}://***@{host}"


def markdown_table(declared: Iterable[Setting]) -> str:
    """A README-ready table of settings."""
    rows = ["| Variable | Default | Description |", "| --- | --- | --- |"]
    for s in declared:
        default = ",".join(s.default) if isinstance(s.default, tuple) else s.default
        rows.append(f"| `{s.name}` | `{default}` | {s.help} |")
    return "\n".join(rows)
