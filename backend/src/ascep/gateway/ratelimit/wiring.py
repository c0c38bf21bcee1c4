"""The gateway's rate limits as one bundle: policies, limiter, outage probe, overrides, metrics.

Built when the app is assembled (a bad ``RATE_LIMIT``, ``RATE_LIMIT_SOCKETIO`` or
``TRUSTED_PROXIES``, or a registration the algorithm cannot run, stops the start-up naming it);
the sync loop and the probe start with the other background tasks. The admin API writes through
:meth:`RateLimits.put` / :meth:`RateLimits.delete`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, cast

from ascep.common.errors import ConfigError, RegistrationError
from ascep.common.redis_client import connect
from ascep.gateway.client_address import ClientAddresses, parse_trusted
from ascep.gateway.proxy.pipeline import Step
from ascep.gateway.ratelimit.connections import LimiterConnections
from ascep.gateway.ratelimit.limiter import RateLimiter
from ascep.gateway.ratelimit.metrics import RateLimitCollector
from ascep.gateway.ratelimit.outage import RedisOutage
from ascep.gateway.ratelimit.policy import Policy
from ascep.gateway.ratelimit.refusals import WINDOW_S, SharedRefusals
from ascep.gateway.ratelimit.scripts import Algorithm
from ascep.gateway.ratelimit.spec import LimitSpec, LimitSpecError, parse_limit
from ascep.gateway.ratelimit.step import rate_limit
from ascep.gateway.ratelimit.store import OverrideStore
from ascep.gateway.ratelimit.sync import OverrideSync
from ascep.gateway.ratelimit.table import GATEWAY, SOCKETIO, Override, PolicyTable, check_for_algorithm
from ascep.gateway.ratelimit.wsgi import OwnRouteLimit, SocketIOConnectLimit, WSGIApp
from ascep.gateway.routing import ServiceRegistry
from ascep.gateway.settings import GatewaySettings
from ascep.gateway.upstreams.health_lease import process_id

logger = logging.getLogger(__name__)

#: Seconds a Redis command of the override store (admin API, sync loop) may take.
STORE_TIMEOUT_S = 1.0
#: Connections the limiter keeps to Redis (see :mod:`.connections`).
POOL_SIZE = 64
#: Seconds a check may queue for a free connection (the proxy's own deadline is 30 s): queuing
#: behind this gateway's own load is not Redis trouble — a hung Redis is noticed by the socket
#: timeout of the checks ahead, and the queued ones then decide locally (RateLimiter._run).
POOL_WAIT_S = 30.0


def _setting_spec(name: str, value: str, algorithm: Algorithm) -> LimitSpec:
    try:
        spec = parse_limit(value)
        check_for_algorithm(spec, algorithm)
    except LimitSpecError as exc:
        raise ConfigError(name, str(exc)) from exc
    return spec


def base_policies(registry: ServiceRegistry, settings: GatewaySettings) -> dict[str, Policy]:
    """Every target's policy before overrides: registration, else ``RATE_LIMIT``."""
    algorithm = cast(Algorithm, settings.rate_limit_algorithm)  # a choice of the setting
    default = _setting_spec("RATE_LIMIT", settings.rate_limit, algorithm)
    policies = {
        GATEWAY: Policy(GATEWAY, default, "default"),
        SOCKETIO: Policy(
            SOCKETIO, _setting_spec("RATE_LIMIT_SOCKETIO", settings.rate_limit_socketio, algorithm), "setting"
        ),
    }
    for definition in registry:
        if definition.rate_limit is None:
            policies[definition.name] = Policy(definition.name, default, "default")
            continue
        try:
            check_for_algorithm(definition.rate_limit, algorithm)
        except LimitSpecError as exc:
            raise RegistrationError("rate_limit", f"service {definition.name!r}: {exc}") from exc
        policies[definition.name] = Policy(definition.name, definition.rate_limit, "registration")
    return policies


class RateLimits:
    """Everything about rate limits one gateway process holds."""

    def __init__(self, settings: GatewaySettings, registry: ServiceRegistry) -> None:
        self.algorithm = cast(Algorithm, settings.rate_limit_algorithm)
        self.table = PolicyTable(base_policies(registry, settings), self.algorithm)
        self.addresses = ClientAddresses(parse_trusted(settings.trusted_proxies))
        self.connections = LimiterConnections(
            settings.redis_url, timeout=settings.rate_limit_redis_timeout, size=POOL_SIZE, wait_s=POOL_WAIT_S
        )
        self.outage = RedisOutage(self.connections.ping, fail_open=settings.rate_limit_fail == "open")
        self.limiter = RateLimiter(self.connections, self.table, self.outage)
        self.store = OverrideStore(
            connect(
                settings.redis_url, socket_timeout=STORE_TIMEOUT_S, connect_timeout=STORE_TIMEOUT_S, retries=0
            )
        )
        self.sync = OverrideSync(
            settings.redis_url,
            self.table,
            self.store,
            sleep=time.sleep,
            interval=settings.rate_limit_sync_interval,
            on_tick=self._share_refusals,
        )
        self.refusals = SharedRefusals(self.limiter.refusals, self.store.client, process_id())
        self.collector = RateLimitCollector(self.limiter)

    def step(self) -> Step:
        return rate_limit(self.limiter, self.addresses)

    def own_routes(self, app: WSGIApp) -> WSGIApp:
        return OwnRouteLimit(app, self.limiter, self.addresses)

    def socketio(self, app: WSGIApp) -> WSGIApp:
        return SocketIOConnectLimit(app, self.limiter, self.addresses)

    def start(self, spawn: Callable[..., Any], sleep: Callable[[float], Any]) -> None:
        self.sync.sleep = sleep
        spawn(self.sync.run)
        spawn(self.outage.run, sleep)
        self.limiter.pipeline.start(spawn)
        if any(policy.spec.enabled for policy in self.table.base.values()):
            # Only when something is limited: warming up opens the limiter's pool, which stalls
            # this process's first requests (seen as +50 ms in the first second of a gateway with
            # every limit off); an override that enables a limit later warms up on first use.
            spawn(self.warm_up)

    def warm_up(self) -> None:
        """Open the limiter's connections and load its script before traffic needs them."""
        try:
            self.connections.open_all()
            self.limiter.load_script()
        except Exception as exc:  # Redis not there yet: both happen on first use instead
            logger.info("rate limits: could not prepare Redis ahead of traffic (%s)", exc)

    def stop(self) -> None:
        self.sync.stop()
        self.outage.stop()
        self.limiter.pipeline.stop()

    def validate(self, limit: object) -> LimitSpec:
        """A limit an administrator sent; :class:`LimitSpecError` says why it cannot be used."""
        spec = parse_limit(limit)
        check_for_algorithm(spec, self.algorithm)
        return spec

    def put(self, target: str, spec: LimitSpec) -> Override:
        """Store an override (new generation) and apply it here at once; other processes follow."""
        stored = self.store.put(target, str(spec), int(time.time() * 1000))
        self.table.replace_overrides({**self.table.overrides, target: stored})
        return stored

    def delete(self, target: str) -> bool:
        removed = self.store.delete(target)
        self.table.replace_overrides({t: o for t, o in self.table.overrides.items() if t != target})
        return removed

    def _share_refusals(self) -> None:
        self.refusals.flush()

    def describe(self) -> dict[str, Any]:
        return {
            "algorithm": self.algorithm,
            "fail_mode": "open" if self.outage.fail_open else "closed",
            "trusted_proxies": [str(n) for n in self.addresses.trusted],
            "targets": {t: self.table.describe(t) for t in sorted(self.table.base)},
            "limited": self.refusals.listing(),
            "limited_window_seconds": WINDOW_S,
        }

    def status(self) -> dict[str, Any]:
        return {
            "algorithm": self.algorithm,
            "redis": self.outage.status(),
            "overrides": {t: o.describe() for t, o in self.table.overrides.items()},
            "sync": self.sync.status(),
        }
