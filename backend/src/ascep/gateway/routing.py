"""Service registry: which service owns which ``/api`` endpoint, validated when registered.

Pure Python (no Flask, no I/O) so routing is unit-testable and cheap: a lookup walks the request
path's segments from the longest prefix down, one dict probe per segment.

A registration that could never work — a bad name, port or endpoint, or an endpoint another
service already owns — raises :class:`~ascep.common.errors.RegistrationError` naming the argument
at import time, so a typo in ``service_registry.py`` stops the gateway before it takes traffic.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from ascep.common.errors import RegistrationError
from ascep.gateway.auth.access import DEFAULT_ACCESS, Access, check_access
from ascep.gateway.ratelimit.spec import LimitSpec, LimitSpecError, parse_limit
from ascep.gateway.ratelimit.table import RESERVED_TARGETS
from ascep.gateway.upstreams.policy import DEFAULT_POLICY, UpstreamPolicy

#: ``/api`` paths the gateway answers itself; no service may claim them or anything below them.
RESERVED_ENDPOINTS: frozenset[str] = frozenset(
    {
        "/gateway",
        "/health",
        "/latency",
        "/services",
        "/auth",
        "/users",
        "/openapi.json",
        "/openapi.yaml",
        "/asyncapi.json",
    }
)

HTTP_METHODS: frozenset[str] = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_ENDPOINT = re.compile(r"^(/[A-Za-z0-9._~\-]+)+$")
_HOST = re.compile(r"^[A-Za-z0-9_.\-]{1,253}$|^\[[0-9A-Fa-f:.]+\]$")
#: Largest weight an instance may have (weights are relative; this keeps sums small).
MAX_WEIGHT = 1000


@dataclass(frozen=True)
class Instance:
    """One static address of a service: ``Instance("10.0.0.5:5002", weight=3, version="v2")``.

    ``register_service(instances=[...])`` also takes ``"host:port"``, ``"http(s)://host:port"``
    or ``("host:port", weight)``; they all become one of these. ``version`` is what a traffic
    split's arms name (a discovered instance announces its own).
    """

    address: str  # host:port (IPv6 as [addr]:port)
    weight: int = 1
    scheme: str = "http"
    version: str = ""

    def __post_init__(self) -> None:
        parsed = _parse_address(self.address, "instances")
        if parsed != self.address:
            object.__setattr__(self, "address", parsed)
        if self.scheme not in ("http", "https"):
            raise RegistrationError("instances", f"scheme {self.scheme!r} must be http or https")
        weight = self.weight
        if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= MAX_WEIGHT:
            raise RegistrationError(
                "instances", f"weight {weight!r} of {self.address} must be an integer from 1 to {MAX_WEIGHT}"
            )
        if not isinstance(self.version, str) or len(self.version) > 64:
            raise RegistrationError(
                "instances", f"version of {self.address} must be a string of at most 64 characters"
            )

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.address}"


@dataclass(frozen=True)
class ServiceDefinition:
    """One registered service, as written in ``service_registry.py``."""

    name: str
    port: int
    endpoints: tuple[str, ...]
    description: str = ""
    host: str = "localhost"
    health_endpoint: str = "/health"
    methods: frozenset[str] | None = None  # None: every method
    max_concurrency: int | None = None  # None: the gateway's PROXY_MAX_CONCURRENCY
    instances: tuple[Instance, ...] | None = None  # None: the one at host:port; (): discovery only
    policy: UpstreamPolicy = DEFAULT_POLICY
    access: Access = DEFAULT_ACCESS  # scopes its routes need when AUTH_MODE=required
    rate_limit: LimitSpec | None = None  # None: the gateway's RATE_LIMIT

    @property
    def url_variable(self) -> str:
        """Environment variable that overrides this service's address (``PRICE_FEED_URL``)."""
        return f"{self.name.upper()}_URL"

    @property
    def host_variable(self) -> str:
        """Environment variable that moves this service to another host, same port (``PRICE_FEED_HOST``)."""
        return f"{self.name.upper()}_HOST"

    def static_instances(self, environ: Mapping[str, str] | None = None) -> tuple[Instance, ...]:
        """The instances the gateway routes to without discovery, most specific source first.

        ``<NAME>_URL`` (one or more comma-separated ``scheme://host:port``, validated) when set,
        else ``instances=[...]`` of the registration, else ``http://<NAME>_HOST or host:port``.
        ``<NAME>_HOST`` is what docker-compose sets (the service's container name); ``<NAME>_URL``
        also changes scheme and port (tests, the launcher).
        """
        environ = os.environ if environ is None else environ
        override = environ.get(self.url_variable, "").strip()
        if override:
            urls = [part.strip() for part in override.split(",") if part.strip()]
            found = tuple(_instance_from_url(url, self.url_variable) for url in urls)
            _check_unique(found, self.url_variable)
            return found
        if self.instances is not None:
            return self.instances
        host = environ.get(self.host_variable, "").strip() or self.host
        if not _HOST.match(host):
            raise RegistrationError(self.host_variable, f"{host!r} is not a valid host name")
        return (Instance(f"{host}:{self.port}"),)

    def base_url(self, environ: Mapping[str, str] | None = None) -> str:
        """Address of the first static instance (``http://host:port`` for discovery-only services)."""
        found = self.static_instances(environ)
        return found[0].base_url if found else f"http://{self.host}:{self.port}"

    def allows(self, method: str) -> bool:
        return self.methods is None or method in self.methods

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "host": self.host,
            "port": self.port,
            "endpoints": list(self.endpoints),
            "description": self.description,
            "health_endpoint": self.health_endpoint,
            "methods": sorted(self.methods) if self.methods is not None else None,
            "max_concurrency": self.max_concurrency,
            "load_balancing": self.policy.load_balancing,
            "access": self.access.describe(),
            "rate_limit": str(self.rate_limit) if self.rate_limit is not None else None,
        }


@dataclass(frozen=True)
class Route:
    """The registered endpoint a request path falls under, and the service that owns it."""

    endpoint: str
    service: ServiceDefinition


class ServiceRegistry:
    """Registrations by name and by endpoint, with longest-prefix routing."""

    def __init__(self) -> None:
        self._services: dict[str, ServiceDefinition] = {}
        self._routes: dict[str, Route] = {}

    def register_service(
        self,
        name: str,
        port: int,
        endpoints: Iterable[str],
        description: str = "",
        host: str = "localhost",
        health_endpoint: str = "/health",
        methods: Iterable[str] | None = None,
        max_concurrency: int | None = None,
        instances: Iterable[str | tuple[str, int] | Instance] | None = None,
        load_balancing: str | None = None,
        policy: UpstreamPolicy | None = None,
        access: Access | None = None,
        rate_limit: str | None = None,
    ) -> ServiceDefinition:
        """Register a service; after this, ``/api<endpoint>[/...]`` is routed to it.

        ``instances`` replaces the one instance at ``host:port`` (an empty list: instances come
        from discovery only); ``load_balancing`` is a shortcut for that field of ``policy``;
        ``access`` changes the scopes its routes need (:class:`~ascep.gateway.auth.access.Access`).
        ``rate_limit`` (``"100/60s"``, ``"10/s burst 20"``, ``"off"``) replaces ``RATE_LIMIT``
        for this service's routes.
        """
        definition = ServiceDefinition(
            name=self._check_name(name),
            port=_check_port(port),
            endpoints=self._check_endpoints(name, endpoints),
            description=_check_text("description", description),
            host=_check_host(host),
            health_endpoint=_check_health_endpoint(health_endpoint),
            methods=_check_methods(methods),
            max_concurrency=_check_max_concurrency(max_concurrency),
            instances=_check_instances(instances),
            policy=_check_policy(policy, load_balancing),
            rate_limit=_check_rate_limit(rate_limit),
        )
        definition = replace(definition, access=check_access(access, definition.endpoints))
        _check_endpoint_timeouts(definition)
        self._services[definition.name] = definition
        for endpoint in definition.endpoints:
            self._routes[endpoint] = Route(endpoint, definition)
        return definition

    def _check_name(self, name: object) -> str:
        if not isinstance(name, str) or not _NAME.match(name):
            raise RegistrationError("name", f"{name!r} must be lower_snake_case (letters, digits, _)")
        if name in self._services:
            raise RegistrationError("name", f"a service named {name!r} is already registered")
        if name in RESERVED_TARGETS:
            raise RegistrationError("name", f"{name!r} is reserved by the gateway (a rate-limit target)")
        return name

    def _check_endpoints(self, name: str, endpoints: object) -> tuple[str, ...]:
        if isinstance(endpoints, str) or not isinstance(endpoints, Iterable):
            raise RegistrationError("endpoints", "must be a list of paths such as ['/foo']")
        checked: list[str] = []
        for endpoint in endpoints:
            if not isinstance(endpoint, str) or not _ENDPOINT.match(endpoint.rstrip("/") or "?"):
                raise RegistrationError(
                    "endpoints", f"{endpoint!r} must look like '/foo' or '/foo/bar' (no '..', no '//')"
                )
            endpoint = endpoint.rstrip("/")
            if any(seg in (".", "..") for seg in endpoint.split("/")):
                raise RegistrationError("endpoints", f"{endpoint!r} contains a dot segment")
            reserved = _under_any(endpoint, RESERVED_ENDPOINTS)
            if reserved:
                raise RegistrationError(
                    "endpoints", f"{endpoint!r} is reserved by the gateway (/api{reserved})"
                )
            owner = self._routes.get(endpoint)
            if owner is not None or endpoint in checked:
                other = owner.service.name if owner else name
                raise RegistrationError("endpoints", f"{endpoint!r} is already claimed by {other!r}")
            checked.append(endpoint)
        if not checked:
            raise RegistrationError("endpoints", "at least one endpoint is required")
        return tuple(checked)

    def match(self, path: str) -> Route | None:
        """The route of the longest registered endpoint that ``path`` equals or lies under."""
        routes = self._routes
        candidate = path.rstrip("/") or "/"
        while candidate:
            route = routes.get(candidate)
            if route is not None:
                return route
            cut = candidate.rfind("/")
            if cut <= 0:
                return None
            candidate = candidate[:cut]
        return None

    def get(self, name: str) -> ServiceDefinition | None:
        return self._services.get(name)

    def endpoint_owner(self, endpoint: str) -> ServiceDefinition | None:
        route = self._routes.get(endpoint.rstrip("/"))
        return route.service if route else None

    def __iter__(self) -> Iterator[ServiceDefinition]:
        return iter(self._services.values())

    def __len__(self) -> int:
        return len(self._services)


def _under_any(endpoint: str, prefixes: Iterable[str]) -> str | None:
    for prefix in prefixes:
        if endpoint == prefix or endpoint.startswith(prefix + "/"):
            return prefix
    return None


def _check_port(port: object) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise RegistrationError("port", f"{port!r} must be an integer from 1 to 65535")
    return port


def _check_text(argument: str, value: object) -> str:
    if not isinstance(value, str):
        raise RegistrationError(argument, f"{value!r} must be a string")
    return value


def _check_host(host: object) -> str:
    if not isinstance(host, str) or not _HOST.match(host):
        raise RegistrationError("host", f"{host!r} must be a host name or IP address")
    return host


def _check_health_endpoint(path: object) -> str:
    if not isinstance(path, str) or not path.startswith("/") or " " in path:
        raise RegistrationError("health_endpoint", f"{path!r} must be a path starting with '/'")
    return path


def _check_rate_limit(limit: object) -> LimitSpec | None:
    if limit is None:
        return None
    try:
        return parse_limit(limit)
    except LimitSpecError as exc:
        raise RegistrationError("rate_limit", str(exc)) from exc


def _check_max_concurrency(limit: object) -> int | None:
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise RegistrationError("max_concurrency", f"{limit!r} must be a positive integer (or None)")
    return limit


def _parse_address(value: str, argument: str) -> str:
    """``host:port`` from ``host:port`` (IPv6 in brackets), validated; raises naming ``argument``."""
    if not isinstance(value, str):
        raise RegistrationError(argument, f"{value!r} must be 'host:port'")
    try:
        parts = urlsplit(f"http://{value}")
        port = parts.port
    except ValueError as exc:
        raise RegistrationError(argument, f"{value!r} must be 'host:port' ({exc})") from exc
    host = parts.hostname or ""
    if parts.netloc != value or port is None or not 1 <= port <= 65535 or "@" in value:
        raise RegistrationError(argument, f"{value!r} must be 'host:port' with a port from 1 to 65535")
    shown = f"[{host}]" if ":" in host else host
    if not _HOST.match(shown):
        raise RegistrationError(argument, f"{value!r} has an invalid host name")
    return f"{shown}:{port}"


def _instance_from_url(url: str, argument: str) -> Instance:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RegistrationError(argument, f"{url!r} is not an http(s) URL")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise RegistrationError(argument, "must be scheme://host[:port] with no path")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise RegistrationError(argument, f"{url!r} has an invalid port") from exc
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return Instance(_parse_address(f"{host}:{port}", argument), scheme=parts.scheme)


def _check_unique(instances: tuple[Instance, ...], argument: str) -> None:
    seen: set[str] = set()
    for instance in instances:
        if instance.base_url in seen:
            raise RegistrationError(argument, f"{instance.base_url} is listed twice")
        seen.add(instance.base_url)


def _check_instances(
    instances: Iterable[str | tuple[str, int] | Instance] | None,
) -> tuple[Instance, ...] | None:
    if instances is None:
        return None
    if isinstance(instances, str | bytes) or not isinstance(instances, Iterable):
        raise RegistrationError("instances", "must be a list such as ['10.0.0.5:5002', ('10.0.0.6:5002', 3)]")
    checked: list[Instance] = []
    for item in instances:
        if isinstance(item, Instance):
            checked.append(item)
        elif isinstance(item, str):
            checked.append(_instance_from_url(item, "instances") if "://" in item else Instance(item))
        elif isinstance(item, tuple) and len(item) == 2:
            address, weight = item
            base = _instance_from_url(address, "instances") if "://" in str(address) else Instance(address)
            checked.append(replace(base, weight=weight))
        else:
            raise RegistrationError(
                "instances", f"{item!r} must be 'host:port', ('host:port', weight) or Instance"
            )
    found = tuple(checked)
    _check_unique(found, "instances")
    return found


def _check_endpoint_timeouts(definition: ServiceDefinition) -> None:
    """Every ``policy.endpoint_timeouts`` prefix must lie under one of the service's endpoints
    (a deadline for a path the service never receives is a typo)."""
    for prefix in definition.policy.endpoint_timeouts:
        if _under_any(prefix, definition.endpoints) is None:
            raise RegistrationError(
                "policy", f"endpoint_timeouts key {prefix!r} is not under any of {list(definition.endpoints)}"
            )


def _check_policy(policy: object, load_balancing: object) -> UpstreamPolicy:
    if policy is None:
        policy = DEFAULT_POLICY
    if not isinstance(policy, UpstreamPolicy):
        raise RegistrationError("policy", f"{policy!r} must be an UpstreamPolicy")
    if load_balancing is None:
        return policy
    if policy.load_balancing != DEFAULT_POLICY.load_balancing and policy.load_balancing != load_balancing:
        raise RegistrationError("load_balancing", "differs from policy.load_balancing: set it once")
    try:
        return replace(policy, load_balancing=load_balancing)  # type: ignore[arg-type]  # validated
    except RegistrationError as exc:
        raise RegistrationError("load_balancing", str(exc).split(": ", 1)[-1]) from exc


def _check_methods(methods: Iterable[str] | None) -> frozenset[str] | None:
    if methods is None:
        return None
    if isinstance(methods, str):
        raise RegistrationError("methods", "must be a list such as ['GET', 'POST']")
    normalised = frozenset(str(m).upper() for m in methods)
    unknown = normalised - HTTP_METHODS
    if unknown or not normalised:
        raise RegistrationError("methods", f"unknown or empty: {sorted(unknown) or '[]'}")
    return normalised
