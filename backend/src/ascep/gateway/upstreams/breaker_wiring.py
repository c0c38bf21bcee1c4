"""The gateway's breakers as one bundle: board, Redis store and sync loop, built from settings.

The board is needed when the proxy pipeline is built; the sync loop starts with the other
background tasks. A service registered with its own ``policy``
uses its breaker part; every other service the ``BREAKER_*`` settings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from ascep.common.redis_client import connect
from ascep.gateway.routing import ServiceDefinition
from ascep.gateway.settings import GatewaySettings
from ascep.gateway.upstreams.breaker import BreakerOptions
from ascep.gateway.upstreams.breaker_metrics import BreakerCollector
from ascep.gateway.upstreams.breaker_store import BreakerStore
from ascep.gateway.upstreams.breaker_sync import BreakerSync
from ascep.gateway.upstreams.breakers import BreakerBoard, StateListener
from ascep.gateway.upstreams.policy import DEFAULT_POLICY

logger = logging.getLogger(__name__)

#: The breaker store is asked on the request path (only while a breaker is not closed): a Redis
#: that does not answer within this many seconds is treated as unreachable.
STORE_TIMEOUT_S = 0.5


def options_from_settings(settings: GatewaySettings) -> BreakerOptions:
    """The ``BREAKER_*`` settings as :class:`BreakerOptions` (the default of every service)."""
    return BreakerOptions(
        window_s=settings.breaker_window_seconds,
        failure_rate=settings.breaker_failure_rate / 100,
        min_volume=settings.breaker_min_volume,
        open_s=settings.breaker_open_seconds,
        half_open_probes=settings.breaker_half_open_probes,
        probe_timeout_s=settings.breaker_probe_timeout,
    )


def options_per_service(
    registry: Iterable[ServiceDefinition], settings: GatewaySettings
) -> Callable[[str], BreakerOptions]:
    """A service registered with its own ``policy`` uses its breaker part; others the settings."""
    default = options_from_settings(settings)
    own = {
        d.name: replace(
            default,
            window_s=d.policy.breaker.window_s,
            failure_rate=d.policy.breaker.failure_rate,
            min_volume=d.policy.breaker.minimum_volume,
            open_s=d.policy.breaker.open_s,
            half_open_probes=d.policy.breaker.half_open_probes,
        )
        for d in registry
        if d.policy is not DEFAULT_POLICY
    }
    return lambda service: own.get(service, default)


class Breakers:
    """Board (asked by the ``circuit_breaker`` step), store and the sync loop of one process."""

    def __init__(
        self,
        settings: GatewaySettings,
        options_for: Callable[[str], BreakerOptions],
        on_state: StateListener | None = None,
    ) -> None:
        self.redis_url: str = settings.redis_url
        self.resync_interval: float = settings.breaker_resync_interval
        client = connect(
            self.redis_url, socket_timeout=STORE_TIMEOUT_S, connect_timeout=STORE_TIMEOUT_S, retries=0
        )
        self.store = BreakerStore(client)
        self.board = BreakerBoard(options_for, self.store, on_state=on_state)
        self.collector = BreakerCollector(self.board)
        self.sync: BreakerSync | None = None

    def start(self, spawn: Callable[..., Any], sleep: Callable[[float], Any]) -> None:
        self.sync = BreakerSync(
            self.redis_url, self.board, self.store, sleep=sleep, resync_interval=self.resync_interval
        )
        spawn(self.sync.run)

    def stop(self) -> None:
        if self.sync is not None:
            self.sync.stop()

    def status(self) -> dict[str, Any]:
        return {**self.board.status(), "sync": self.sync.status() if self.sync else {"state": "not started"}}
