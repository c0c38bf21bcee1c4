"""The gateway's traffic splits as one bundle: table, counters, Redis store, sync loop, metrics.

The table and the step are needed when the proxy pipeline is built; the sync loop starts with the
other background tasks. The admin API writes through :meth:`Splits.put` / :meth:`Splits.delete`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ascep.common.redis_client import connect
from ascep.gateway.proxy.pipeline import Step
from ascep.gateway.settings import GatewaySettings
from ascep.gateway.upstreams.rollback import RollbackPolicy
from ascep.gateway.upstreams.split_metrics import SplitCollector
from ascep.gateway.upstreams.split_step import (
    PrincipalOf,
    SplitCounters,
    SplitTable,
    key_resolver,
    split_traffic,
)
from ascep.gateway.upstreams.split_store import SplitStore
from ascep.gateway.upstreams.split_sync import SplitSync
from ascep.gateway.upstreams.splits import Split

#: Seconds a Redis command of the split store (admin API, sync loop) may take.
STORE_TIMEOUT_S = 1.0


class Splits:
    """Everything about traffic splits one gateway process holds."""

    def __init__(self, settings: GatewaySettings, principal_of: PrincipalOf | None = None) -> None:
        self.redis_url = settings.redis_url
        self.interval = settings.split_sync_interval
        self.policy = RollbackPolicy(
            margin=settings.split_rollback_margin / 100,
            min_requests=settings.split_rollback_min_requests,
            window_s=settings.split_rollback_window_seconds,
        )
        client = connect(
            self.redis_url, socket_timeout=STORE_TIMEOUT_S, connect_timeout=STORE_TIMEOUT_S, retries=0
        )
        self.table = SplitTable()
        self.counters = SplitCounters()
        self.store = SplitStore(client)
        # principal_of: the authenticated caller (JWT subject / API key), before SPLIT_KEY_HEADER.
        self.key_of = key_resolver(settings.split_key_header, principal_of)
        self.collector = SplitCollector(self.table, self.counters)
        self.sync = SplitSync(
            self.redis_url,
            self.table,
            self.counters,
            self.store,
            self.policy,
            sleep=time.sleep,
            interval=self.interval,
            clock=time.time,
        )

    def step(self) -> Step:
        return split_traffic(self.table, self.counters, self.key_of)

    def start(self, spawn: Callable[..., Any], sleep: Callable[[float], Any]) -> None:
        self.sync.sleep = sleep
        spawn(self.sync.run)

    def stop(self) -> None:
        self.sync.stop()

    def put(self, split: Split) -> Split:
        """Store ``split`` (new generation) and apply it here at once; other processes follow."""
        stored = self.store.put(split, int(time.time() * 1000))
        self.sync.apply({**self.table.splits, stored.service: stored})
        return stored

    def delete(self, service: str) -> bool:
        removed = self.store.delete(service)
        self.sync.apply({s: split for s, split in self.table.splits.items() if s != service})
        return removed

    def status(self) -> dict[str, Any]:
        return {
            "splits": {s: split.describe() for s, split in self.table.splits.items()},
            "sync": self.sync.status(),
        }
