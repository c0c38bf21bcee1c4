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
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, get_origin, get_type_hints

from ascep.common.errors import ConfigError
from ascep.common.jsonparse import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH

if TYPE_CHECKING:
    from ascep.common.redis_client import RedisOptions

T = TypeVar("T")

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
    #: The default when ASCEP_ENV=production and the variable is not set (``AUTH_MODE``: a
    #: development default that would be unsafe in production); ``None``: ``default`` everywhere.
    production_default: Any = None

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


_SPEC = "ascep.setting"


def setting(
    default: T,
    help: str,
    *,
    secret: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] | None = None,
    required_in_production: bool = False,
    production_default: T | None = None,
) -> T:
    """Declare one field of a settings class (like :func:`dataclasses.field`, typed as its value).

    The variable's name is the field's name upper-cased and its type the field's annotation, so a
    setting is written once and read as a typed attribute (``settings.proxy_read_timeout``).
    """
    spec = {
        "help": help,
        "secret": secret,
        "minimum": minimum,
        "maximum": maximum,
        "choices": choices,
        "required_in_production": required_in_production,
        "production_default": production_default,
    }
    return field(default=default, metadata={_SPEC: spec})  # typed as T for the dataclass field


def port_setting(default: int) -> int:
    """The ``PORT`` field, defaulting to the service's port on its registry line."""
    return setting(default, "TCP port this service listens on.", minimum=1, maximum=65535)


@dataclass(frozen=True)
class Rule:
    """A rule between two settings, checked at start-up; a violation names both variables."""

    setting: str
    other: str
    holds: Callable[[Any], bool]
    reason: str

    def check(self, settings: Any) -> None:
        if not self.holds(settings):
            mine = getattr(settings, self.setting.lower())
            other = getattr(settings, self.other.lower())
            raise ConfigError(self.setting, f"{mine!r} {self.reason} {self.other} ({other!r})")


S = TypeVar("S", bound="CommonSettings")


@dataclass(frozen=True, kw_only=True)
class CommonSettings:
    """Settings every service reads; each service's settings class extends it with its own.

    Built once at start-up (:meth:`load`) and read as typed attributes. ``RULES`` on a class are
    the rules between its settings (each class in the hierarchy may add some).
    """

    RULES: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "DISCOVERY_TTL",
            "DISCOVERY_HEARTBEAT_S",
            lambda s: s.discovery_ttl > s.discovery_heartbeat_s,
            "must be more than",
        ),
    )

    ascep_env: str = setting(
        "development",
        "`production` refuses to start without a real SECRET_KEY and an explicit ALLOWED_HOSTS.",
        choices=("development", "production", "test"),
    )
    redis_url: str = setting("redis://127.0.0.1:6379/0", "Redis used for events, state and statistics.")
    redis_key_prefix: str = setting(
        "ascep:",
        "Prefix of every Redis key ASCEP writes (Celery's included); read once at process start, "
        "the same for every process of a stack. The public event channels are not prefixed.",
    )
    redis_data_loss_report_s: float = setting(
        3600.0,
        "How long a service's `/health` stays `degraded` after it noticed that Redis lost its data "
        "(0: until the service restarts).",
        minimum=0,
    )
    redis_socket_timeout: float = setting(
        2.0,
        "Seconds one Redis command may take before it fails (the service degrades and retries); "
        "pub/sub connections have none.",
        minimum=0.05,
    )
    redis_connect_timeout: float = setting(
        1.0, "Seconds to open a connection to Redis before the attempt fails.", minimum=0.05
    )
    host: str = setting("127.0.0.1", "Interface to listen on (`0.0.0.0` in containers).")
    log_level: str = setting(
        "INFO",
        "Python logging level.",
        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
    )
    secret_key: str = setting(
        "",
        "Flask secret. Empty: a random per-process key (development only).",
        secret=True,
    )
    allowed_hosts: tuple[str, ...] = setting(
        ("localhost", "127.0.0.1", "[::1]"),
        "Host names this process answers to (any port; `.example.com` adds subdomains, `*` any "
        "host); other `Host` headers get 400 `HOST_NOT_ALLOWED`. Required when ASCEP_ENV=production.",
        required_in_production=True,
    )
    async_mode: str = setting(
        "eventlet",
        "Concurrency model: eventlet, gevent or threading.",
        choices=("eventlet", "gevent", "threading"),
    )
    max_json_depth: int = setting(
        DEFAULT_MAX_DEPTH,
        "Deepest nesting of arrays/objects accepted in a JSON request body; deeper gets 400.",
        minimum=1,
        maximum=256,
    )
    max_json_body_bytes: int = setting(
        DEFAULT_MAX_BYTES,
        "Largest JSON request body a service reads; larger gets 413.",
        minimum=1,
    )
    http_max_connections: int = setting(
        10_000,
        "Client connections served at once, idle keep-alive ones included (capped by the open-file "
        "limit). At the limit the longest-idle connection is closed to make room.",
        minimum=16,
    )
    http_backlog: int = setting(
        1024,
        "Listen backlog: connections the kernel queues before they are accepted (capped by "
        "`net.core.somaxconn`).",
        minimum=1,
    )
    http_idle_timeout: float = setting(
        30.0,
        "Seconds a connection may wait for its next request (keep-alive) before it is closed.",
        minimum=0.1,
    )
    http_header_timeout: float = setting(
        10.0,
        "Seconds from a request's first byte to the end of its headers; a slower client gets 408.",
        minimum=0.1,
    )
    http_body_timeout: float = setting(
        30.0,
        "Longest silence while a request body arrives (or a response waits for the client to read "
        "it); then the connection is closed.",
        minimum=0.1,
    )
    discovery_heartbeat_s: float = setting(
        1.0,
        "Seconds between a service instance's heartbeats in Redis (service discovery).",
        minimum=0.05,
        maximum=60,
    )
    discovery_ttl: float = setting(
        3.0,
        "Seconds after its last heartbeat that an instance leaves routing (a clean shutdown leaves "
        "at once); more than `DISCOVERY_HEARTBEAT_S`.",
        minimum=0.1,
        maximum=600,
    )
    discovery_advertise_host: str = setting(
        "",
        "Host name gateways should call this instance at; empty: `HOST`, or the machine's host "
        "name when `HOST` is a wildcard (`0.0.0.0`).",
    )
    discovery_weight: int = setting(
        1,
        "Relative weight this instance announces (used by `weighted` and `least_request`).",
        minimum=1,
        maximum=1000,
    )

    #: Every service declares it with its registry port as default (:func:`port_setting`).
    port: int

    @classmethod
    def declared(cls) -> tuple[Setting, ...]:
        """The class's fields as :class:`Setting` declarations (what README's tables list)."""
        return _declared(cls)

    @classmethod
    def own(cls) -> tuple[Setting, ...]:
        """What the class declares beyond the common settings, or instead of one (README's table)."""
        common = set(_declared(CommonSettings))
        return tuple(s for s in cls.declared() if s not in common)

    @classmethod
    def load(
        cls: type[S], overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
    ) -> S:
        """Resolve every setting (default < environment < ``overrides``) and check the rules."""
        return cls.from_values(load_settings(cls.declared(), overrides, environ))

    @classmethod
    def from_values(cls: type[S], values: Mapping[str, Any]) -> S:
        """The typed settings of already resolved ``values``; raise :class:`ConfigError` on a broken rule."""
        settings = cls(**{s.name.lower(): values[s.name] for s in cls.declared()})
        for klass in reversed(cls.__mro__):
            for rule in vars(klass).get("RULES", ()):
                rule.check(settings)
        return settings

    def as_config(self) -> dict[str, Any]:
        """``{"NAME": value}`` for Flask's ``app.config`` and ``/status``."""
        return {s.name: getattr(self, s.name.lower()) for s in self.declared()}

    @property
    def redis(self) -> RedisOptions:
        """Where Redis is and how long to wait for it: every client of the process uses these."""
        from ascep.common.redis_client import RedisOptions  # redis-py stays unimported until used

        return RedisOptions(self.redis_url, self.redis_socket_timeout, self.redis_connect_timeout)


_DECLARED: dict[type, tuple[Setting, ...]] = {}


def _declared(cls: type) -> tuple[Setting, ...]:
    if cls in _DECLARED:
        return _DECLARED[cls]
    hints = get_type_hints(cls)
    declared = []
    for f in fields(cls):
        spec = f.metadata.get(_SPEC)
        if spec is None:
            continue
        kind = hints[f.name]
        declared.append(Setting(f.name.upper(), get_origin(kind) or kind, f.default, **spec))
    _DECLARED[cls] = tuple(declared)
    return _DECLARED[cls]


#: Settings every service reads (``PORT`` is each service's own: its default differs).
COMMON_SETTINGS: tuple[Setting, ...] = CommonSettings.declared()


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


def _require_explicit_in_production(values: dict[str, Any], defaulted: Iterable[Setting]) -> None:
    if values.get("ASCEP_ENV") != "production":
        return
    for setting in defaulted:
        if setting.production_default is not None:
            values[setting.name] = setting.parse(setting.production_default)
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
