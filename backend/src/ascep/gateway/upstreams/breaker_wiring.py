"""The gateway's breakers as one bundle: board, Redis store and sync loop, built from settings.

The board is needed when the proxy pipeline is built; the sync loop starts with the other
background tasks. Per-service options (an upstream policy in the registration) replace
``options_for``; until then every service uses the ``BREAKER_*`` settings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from ascep.common.redis_client import connect
from ascep.gateway.upstreams.breaker import BreakerOptions
from ascep.gateway.upstreams.breaker_metrics import BreakerCollector
from ascep.gateway.upstreams.breaker_store import BreakerStore
from ascep.gateway.upstreams.breaker_sync import BreakerSync
from ascep.gateway.upstreams.breakers import BreakerBoard

logger = logging.getLogger(__name__)

#: The breaker store is asked on the request path (only while a breaker is not closed): a Redis
#: that does not answer within this many seconds is treated as unreachable.
STORE_TIMEOUT_S = 0.5


def options_from_config(config: Mapping[str, Any]) -> BreakerOptions:
    """The ``BREAKER_*`` settings as :class:`BreakerOptions` (the default of every service)."""
    return BreakerOptions(
        window_s=config["BREAKER_WINDOW_SECONDS"],
        failure_rate=config["BREAKER_FAILURE_RATE"] / 100,
        min_volume=config["BREAKER_MIN_VOLUME"],
        open_s=config["BREAKER_OPEN_SECONDS"],
        half_open_probes=config["BREAKER_HALF_OPEN_PROBES"],
        probe_timeout_s=config["BREAKER_PROBE_TIMEOUT"],
    )


class Breakers:
    """Board (asked by the ``circuit_breaker`` step), store and the sync loop of one process."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.redis_url: str = config["REDIS_URL"]
        self.resync_interval: float = config["BREAKER_RESYNC_INTERVAL"]
        client = connect(
            self.redis_url, socket_timeout=STORE_TIMEOUT_S, connect_timeout=STORE_TIMEOUT_S, retries=0
        )
        self.store = BreakerStore(client)
        options = options_from_config(config)
        self.board = BreakerBoard(lambda _service: options, self.store)
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
