"""Wire the upstream modules together: breaker and health state mirrored onto the instances.

Selection reads only :class:`~ascep.gateway.upstreams.model.Upstream` fields (no Redis, no
locks); the breaker board and health routing write them through the functions here, so the
modules stay independent of each other.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import redis

from ascep.gateway.routing import ServiceRegistry
from ascep.gateway.settings import GatewaySettings
from ascep.gateway.upstreams.active_health import HealthCheckOptions
from ascep.gateway.upstreams.breaker import State
from ascep.gateway.upstreams.breaker_wiring import Breakers, options_per_service
from ascep.gateway.upstreams.health_routing import HealthRouting
from ascep.gateway.upstreams.instances import Upstreams
from ascep.gateway.upstreams.model import UpstreamKey
from ascep.gateway.upstreams.outliers import OutlierOptions


def mirror_breaker_state(
    upstreams: Upstreams, open_for: Callable[[UpstreamKey], float]
) -> Callable[[UpstreamKey, State], None]:
    """A board listener that copies each breaker's state onto its instance (what selection reads)."""

    def on_state(key: UpstreamKey, state: State) -> None:
        upstream = upstreams.find(key.service, key.instance_id)
        if upstream is None:
            return
        upstream.breaker_state = state
        upstream.breaker_retry_at = time.monotonic() + open_for(key) if state == "open" else 0.0

    return on_state


def build_breakers(registry: ServiceRegistry, upstreams: Upstreams, settings: GatewaySettings) -> Breakers:
    """The breakers of every instance, their state mirrored onto :class:`Upstream` objects."""
    holder: list[Breakers] = []

    def open_for(key: UpstreamKey) -> float:
        return max(0.0, holder[0].board.breaker(key).open_until - time.time())

    breakers = Breakers(
        settings, options_per_service(registry, settings), on_state=mirror_breaker_state(upstreams, open_for)
    )
    holder.append(breakers)
    return breakers


def build_health_routing(
    registry: ServiceRegistry,
    upstreams: Upstreams,
    redis_client: redis.Redis,
    settings: GatewaySettings,
    sleep: Callable[[float], Any],
) -> HealthRouting:
    """Active checks and outlier ejection for every instance, from each service's policy."""

    def health_options(service: str) -> HealthCheckOptions:
        definition = registry.get(service)
        assert definition is not None, f"no service {service!r}"
        check = definition.policy.health_check
        return HealthCheckOptions(
            check.interval_s, check.timeout_s, check.rise, check.fall, definition.health_endpoint
        )

    def outlier_options(service: str) -> OutlierOptions:
        definition = registry.get(service)
        assert definition is not None, f"no service {service!r}"
        outlier = definition.policy.outlier
        return OutlierOptions(
            outlier.consecutive_failures,
            outlier.base_ejection_s,
            outlier.max_ejection_s,
            outlier.max_ejected_share,
        )

    return HealthRouting(
        lambda: [u for s in upstreams for u in s.members],
        health_options=health_options,
        outlier_options=outlier_options,
        redis_client=redis_client,
        redis_url=settings.redis_url,
        async_mode=settings.async_mode,
        sleep=sleep,
        active_checks=settings.upstream_active_health_checks,
    )
