"""How the gateway treats a service's instances: one frozen, validated object per registration.

``register_service(..., policy=UpstreamPolicy(...))`` sets it; every field has a default, so the
one-line registration keeps working. Each upstream module reads only its own part:

* selection and the forwarder: :attr:`UpstreamPolicy.load_balancing`, the timeouts,
  :attr:`UpstreamPolicy.when_all_unhealthy`;
* deadlines and retries: :attr:`UpstreamPolicy.timeout_s`, :attr:`UpstreamPolicy.endpoint_timeouts`,
  :attr:`UpstreamPolicy.max_attempts`;
* health routing: :class:`HealthCheckPolicy` (HAProxy's ``inter``/``rise``/``fall``) and
  :class:`OutlierPolicy` (Envoy's consecutive-failure ejection);
* circuit breakers: :class:`BreakerPolicy`.

An impossible value raises :class:`~ascep.common.errors.RegistrationError` naming
``policy`` and the field when the object is built, i.e. when ``service_registry.py`` is imported:
a typo stops the gateway before it takes traffic, like every other registration error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Literal

from ascep.common.errors import RegistrationError

LoadBalancing = Literal["least_request", "round_robin", "weighted"]
AllUnhealthy = Literal["fail", "panic"]

LOAD_BALANCING: tuple[str, ...] = ("least_request", "round_robin", "weighted")
ALL_UNHEALTHY: tuple[str, ...] = ("fail", "panic")


def _number(owner: str, name: str, value: object, low: float, high: float, *, integer: bool) -> None:
    valid = (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and (isinstance(value, int) or not integer)
        and low <= value <= high
    )
    if not valid:
        kind = "an integer" if integer else "a number"
        raise RegistrationError("policy", f"{owner}.{name}={value!r} must be {kind} from {low} to {high}")


@dataclass(frozen=True, slots=True)
class HealthCheckPolicy:
    """Active checks of each instance's health endpoint (owned by health routing).

    An instance becomes unhealthy after ``fall`` consecutive failed checks and healthy again
    after ``rise`` consecutive successes (HAProxy's defaults are 2 and 3 as well).
    """

    interval_s: float = 2.0
    timeout_s: float = 1.0
    rise: int = 2
    fall: int = 3

    def __post_init__(self) -> None:
        _number("health_check", "interval_s", self.interval_s, 0.05, 3600, integer=False)
        _number("health_check", "timeout_s", self.timeout_s, 0.01, 60, integer=False)
        _number("health_check", "rise", self.rise, 1, 100, integer=True)
        _number("health_check", "fall", self.fall, 1, 100, integer=True)


@dataclass(frozen=True, slots=True)
class OutlierPolicy:
    """Passive ejection of an instance after consecutive 5xx/connect failures (health routing).

    The n-th ejection lasts ``base_ejection_s * n``, capped at ``max_ejection_s``; at most
    ``max_ejected_share`` of a service's instances are ejected at once (with 3 instances and
    0.34 that is one, never two: rounding down, unlike Envoy's percentage on small clusters).
    """

    consecutive_failures: int = 5
    base_ejection_s: float = 30.0
    max_ejection_s: float = 300.0
    max_ejected_share: float = 0.34

    def __post_init__(self) -> None:
        _number("outlier", "consecutive_failures", self.consecutive_failures, 1, 10_000, integer=True)
        _number("outlier", "base_ejection_s", self.base_ejection_s, 0.01, 86_400, integer=False)
        _number("outlier", "max_ejection_s", self.max_ejection_s, self.base_ejection_s, 86_400, integer=False)
        _number("outlier", "max_ejected_share", self.max_ejected_share, 0, 1, integer=False)


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """Per-instance circuit breaker (owned by the breaker module).

    Opens when, over the last ``window_s``, at least ``minimum_volume`` calls were seen and the
    share of failures (5xx, timeouts, connect errors; never 4xx) reached ``failure_rate``; stays
    open ``open_s``; then admits exactly ``half_open_probes`` calls across all gateway processes.
    """

    window_s: float = 10.0
    failure_rate: float = 0.5
    minimum_volume: int = 20
    open_s: float = 5.0
    half_open_probes: int = 3

    def __post_init__(self) -> None:
        _number("breaker", "window_s", self.window_s, 0.1, 3600, integer=False)
        _number("breaker", "failure_rate", self.failure_rate, 0.01, 1, integer=False)
        _number("breaker", "minimum_volume", self.minimum_volume, 1, 1_000_000, integer=True)
        _number("breaker", "open_s", self.open_s, 0.01, 3600, integer=False)
        _number("breaker", "half_open_probes", self.half_open_probes, 1, 1000, integer=True)


@dataclass(frozen=True, slots=True)
class UpstreamPolicy:
    """Everything about a service's instances that a registration may change.

    * ``load_balancing``: ``least_request`` (power of two choices on calls in progress, Envoy's
      default), ``round_robin`` or ``weighted`` (nginx's smooth weighted round robin).
    * ``connect_timeout_s`` / ``read_timeout_s``: ``None`` means the gateway's
      ``PROXY_CONNECT_TIMEOUT`` / ``PROXY_READ_TIMEOUT``.
    * ``when_all_unhealthy``: ``fail`` answers 503 ``NO_HEALTHY_UPSTREAM`` at once; ``panic``
      (Envoy's panic mode) routes over every instance, healthy or not, rather than refuse.
    * ``timeout_s``: the whole call's deadline, retries included (``None``: the gateway's
      ``PROXY_REQUEST_TIMEOUT``); ``endpoint_timeouts`` maps a path prefix (``/prices/history``)
      to its own deadline, the longest matching prefix wins. A client may only shorten them.
    * ``max_attempts``: tries per call, the first included (``None``: ``RETRY_MAX_ATTEMPTS``;
      ``1`` never retries this service).
    """

    load_balancing: LoadBalancing = "least_request"
    health_check: HealthCheckPolicy = field(default_factory=HealthCheckPolicy)
    outlier: OutlierPolicy = field(default_factory=OutlierPolicy)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    connect_timeout_s: float | None = None
    read_timeout_s: float | None = None
    when_all_unhealthy: AllUnhealthy = "fail"
    timeout_s: float | None = None
    endpoint_timeouts: Mapping[str, float] = field(default_factory=dict)
    max_attempts: int | None = None

    def __post_init__(self) -> None:
        if self.load_balancing not in LOAD_BALANCING:
            raise RegistrationError(
                "policy", f"load_balancing={self.load_balancing!r} must be one of {', '.join(LOAD_BALANCING)}"
            )
        if self.when_all_unhealthy not in ALL_UNHEALTHY:
            raise RegistrationError(
                "policy",
                f"when_all_unhealthy={self.when_all_unhealthy!r} must be one of {', '.join(ALL_UNHEALTHY)}",
            )
        for name, kind in (
            ("health_check", HealthCheckPolicy),
            ("outlier", OutlierPolicy),
            ("breaker", BreakerPolicy),
        ):
            if not isinstance(getattr(self, name), kind):
                raise RegistrationError("policy", f"{name} must be a {kind.__name__}")
        for name in ("connect_timeout_s", "read_timeout_s", "timeout_s"):
            value = getattr(self, name)
            if value is not None:
                _number("policy", name, value, 0.01, 3600, integer=False)
        if self.max_attempts is not None:
            _number("policy", "max_attempts", self.max_attempts, 1, 10, integer=True)
        # frozen: a read-only copy, so the registration cannot be changed behind the gateway's back
        object.__setattr__(self, "endpoint_timeouts", _endpoint_timeouts(self.endpoint_timeouts))

    def deadline_s(self, path: str, default: float) -> float:
        """Seconds a call to ``path`` (below ``/api``) may take: the longest matching prefix of
        ``endpoint_timeouts``, else ``timeout_s``, else ``default``."""
        best, best_len = None, -1
        for prefix, seconds in self.endpoint_timeouts.items():
            if len(prefix) > best_len and (path == prefix or path.startswith(prefix + "/")):
                best, best_len = seconds, len(prefix)
        if best is not None:
            return best
        return self.timeout_s if self.timeout_s is not None else default

    def timeouts(self, connect_default: float, read_default: float) -> tuple[float, float]:
        """``(connect, read)`` seconds: the policy's own, else the gateway's settings."""
        connect = self.connect_timeout_s if self.connect_timeout_s is not None else connect_default
        read = self.read_timeout_s if self.read_timeout_s is not None else read_default
        return connect, read

    def describe(self) -> dict[str, object]:
        """JSON-ready view for ``/api/services``."""
        view: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, HealthCheckPolicy | OutlierPolicy | BreakerPolicy):
                value = {g.name: getattr(value, g.name) for g in fields(value)}
            elif isinstance(value, Mapping):
                value = dict(value)
            view[f.name] = value
        return view


_PREFIX = re.compile(r"^(/[A-Za-z0-9._~\-]+)+$")


def _endpoint_timeouts(value: object) -> Mapping[str, float]:
    """Validate ``endpoint_timeouts`` (path prefix -> seconds) and freeze it."""
    if not isinstance(value, Mapping):
        raise RegistrationError("policy", f"endpoint_timeouts={value!r} must be a mapping of path -> seconds")
    for prefix, seconds in value.items():
        if not isinstance(prefix, str) or not _PREFIX.match(prefix):
            raise RegistrationError(
                "policy", f"endpoint_timeouts key {prefix!r} must be a path like '/prices/history'"
            )
        _number("policy", f"endpoint_timeouts[{prefix!r}]", seconds, 0.01, 3600, integer=False)
    return MappingProxyType(dict(value))


DEFAULT_POLICY = UpstreamPolicy()
