"""Keeps this process's :class:`~.api_keys.AccessTable` current: pub/sub doorbell plus a periodic re-read.

An ``ACCESS_CHANGES`` message makes the loop re-read both hashes at once (one pipelined round
trip), so a key revoked through any gateway stops working here within milliseconds. Pub/sub drops
messages while disconnected, so the hashes are also re-read after every (re)subscribe and every
``interval`` seconds (``ACCESS_SYNC_INTERVAL``): a revocation is honoured within that interval
even if its message was lost. While Redis is unreachable the last table stays in force until it
is ``ACCESS_MAX_STALENESS_S`` old; then key checks answer 503 (:meth:`AccessTable.check_fresh`).

``on_change`` callbacks run after each re-read that changed something (the Socket.IO side uses it
to disconnect clients whose key was revoked).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import redis

from ascep.common import channels
from ascep.common.subscriber import BusSubscriber
from ascep.common.timeutil import iso_utc
from ascep.gateway.auth.access_store import AccessStore
from ascep.gateway.auth.api_keys import AccessTable

logger = logging.getLogger(__name__)


class AccessSync(BusSubscriber):
    label = "access sync"

    def __init__(
        self,
        redis_url: str,
        table: AccessTable,
        store: AccessStore,
        *,
        sleep: Callable[[float], Any],
        interval: float,
        clock: Callable[[], float],
    ) -> None:
        super().__init__(redis_url, (channels.ACCESS_CHANGES,), sleep=sleep, tick_interval=interval)
        self.table = table
        self.store = store
        self.clock = clock
        self.resyncs = 0
        self.last_resync_at: float | None = None
        self.on_change: list[Callable[[AccessTable], None]] = []

    def on_subscribed(self, client: redis.Redis) -> None:
        self.resync()

    def handle(self, channel: str, payload: dict[str, Any]) -> None:
        self.resync()

    def tick(self) -> None:
        self.resync()

    def resync(self) -> None:
        keys, users = self.store.read_all()
        before = (set(self.table.keys), self.table.user_ids)
        self.table.replace(keys, (u.id for u in users))
        self.resyncs += 1
        self.last_resync_at = self.clock()
        if before != (set(self.table.keys), self.table.user_ids):
            logger.info("access: %d API keys, %d users", len(self.table.keys), len(self.table.user_ids))
            for callback in self.on_change:
                try:
                    callback(self.table)
                except Exception:
                    logger.exception("access change callback failed")

    def status(self) -> dict[str, Any]:
        report = self.connection_status()
        report["resyncs"] = self.resyncs
        report["last_resync_at"] = iso_utc(self.last_resync_at * 1000) if self.last_resync_at else None
        report["api_keys"] = len(self.table.keys)
        report["users"] = len(self.table.user_ids)
        report["fresh"] = self.table.fresh
        return report
