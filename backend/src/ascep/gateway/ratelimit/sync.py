"""Keeps this process's overrides current: a doorbell on pub/sub, plus a re-read every interval.

A ``RATE_LIMIT_CHANGES`` message only rings: the whole hash is re-read (one ``HGETALL``), so a
forged or reordered message can never set a limit. Pub/sub drops messages while disconnected, so
the hash is also re-read after every (re)subscribe and every ``RATE_LIMIT_SYNC_INTERVAL``: a
change made through any gateway applies everywhere within a second. While Redis is unreachable
the last known overrides stay in force. A stored limit this process's algorithm cannot run
(a sliding window over its bound) is skipped and logged, never applied half-way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import redis

from ascep.common import channels
from ascep.common.events import EventFormatError
from ascep.common.subscriber import BusSubscriber
from ascep.common.timeutil import iso_utc
from ascep.gateway.ratelimit.spec import LimitSpecError
from ascep.gateway.ratelimit.store import OverrideStore
from ascep.gateway.ratelimit.table import PolicyTable, check_for_algorithm

logger = logging.getLogger(__name__)


class OverrideSync(BusSubscriber):
    label = "rate-limit sync"

    def __init__(
        self,
        redis_url: str,
        table: PolicyTable,
        store: OverrideStore,
        *,
        sleep: Callable[[float], Any],
        interval: float,
        clock: Callable[[], float] = time.time,
        on_tick: Callable[[], None] | None = None,
    ) -> None:
        """``on_tick``: also run every interval (sharing this process's refusals)."""
        super().__init__(redis_url, (channels.RATE_LIMIT_CHANGES,), sleep=sleep, tick_interval=interval)
        self.on_tick = on_tick
        self.table = table
        self.store = store
        self.clock = clock
        self.resyncs = 0
        self.last_resync_at: float | None = None
        self._refused: dict[str, int] = {}  # target -> generation already logged as unusable

    def on_subscribed(self, client: redis.Redis) -> None:
        self.resync()

    def validate(self, channel: str, payload: dict[str, Any]) -> None:
        if not isinstance(payload.get("target"), str):
            raise EventFormatError("target", "must be a string")

    def handle(self, channel: str, payload: dict[str, Any]) -> None:
        self.resync()

    def tick(self) -> None:
        self.resync()
        if self.on_tick is not None:
            self.on_tick()

    def resync(self) -> None:
        """Adopt the stored overrides this process can run."""
        usable = {}
        for target, override in self.store.read_all().items():
            try:
                check_for_algorithm(override.spec, self.table.algorithm)
            except LimitSpecError as exc:
                if self._refused.get(target) != override.generation:
                    self._refused[target] = override.generation
                    logger.warning("ignoring the rate-limit override of %r: %s", target, exc)
                continue
            usable[target] = override
        self.table.replace_overrides(usable)
        self.resyncs += 1
        self.last_resync_at = self.clock()

    def status(self) -> dict[str, Any]:
        report = self.connection_status()
        report["resyncs"] = self.resyncs
        report["last_resync_at"] = iso_utc(self.last_resync_at * 1000) if self.last_resync_at else None
        return report
