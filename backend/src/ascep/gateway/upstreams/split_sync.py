"""Keeps this process's splits current and judges each canary: pub/sub, plus a periodic turn.

A ``SPLIT_CHANGES`` message is a doorbell: the whole hash is re-read (one ``HGETALL``; there is
one field per split service), so a forged or reordered message can never set a split, and a
change made through any gateway's API applies here within milliseconds. Pub/sub drops messages
while a subscriber is disconnected, so the hash is also re-read after every (re)subscribe and
every ``interval`` seconds.

Each turn also merges this process's per-arm counts into Redis and judges every live canary
(:func:`~.rollback.judge`); a guilty one is rolled back by the store's script, which only one
process can win. While Redis is unreachable the last known splits stay in force and the counts
wait in memory (the loop reconnects with backoff).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import redis

from ascep.common import channels
from ascep.common.events import EventFormatError
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS
from ascep.common.subscriber import BusSubscriber
from ascep.common.timeutil import iso_utc
from ascep.gateway.upstreams.rollback import RollbackPolicy, WindowTotals, judge
from ascep.gateway.upstreams.split_step import SplitCounters, SplitTable
from ascep.gateway.upstreams.split_store import SplitStore
from ascep.gateway.upstreams.splits import Split

logger = logging.getLogger(__name__)


class SplitSync(BusSubscriber):
    label = "split sync"

    def __init__(
        self,
        redis_url: str,
        table: SplitTable,
        counters: SplitCounters,
        store: SplitStore,
        policy: RollbackPolicy,
        *,
        sleep: Callable[[float], Any],
        interval: float,
        clock: Callable[[], float],
    ) -> None:
        super().__init__(redis_url, (channels.SPLIT_CHANGES,), sleep=sleep, tick_interval=interval)
        self.table = table
        self.counters = counters
        self.store = store
        self.policy = policy
        self.clock = clock
        self.resyncs = 0
        self.last_resync_at: float | None = None
        #: service -> the window's totals at the last judgement (shown by the admin API)
        self.last_window: dict[str, WindowTotals] = {}

    def on_subscribed(self, client: redis.Redis) -> None:
        self.resync()

    def validate(self, channel: str, payload: dict[str, Any]) -> None:
        if not isinstance(payload.get("service"), str):
            raise EventFormatError("service", "must be a string")

    def handle(self, channel: str, payload: dict[str, Any]) -> None:
        self.resync()

    def tick(self) -> None:
        self.resync()
        self.judge_all()

    def resync(self) -> None:
        """Adopt the stored splits (a change is logged once per process)."""
        splits = self.store.read_all()
        self.apply(splits)
        self.resyncs += 1
        self.last_resync_at = self.clock()

    def apply(self, splits: dict[str, Split]) -> None:
        old = self.table.splits
        for service, split in splits.items():
            before = old.get(service)
            if before is None or before.generation != split.generation:
                logger.info(
                    "split of %r now: %s %d bp, %s %d bp (generation %d)",
                    service,
                    split.stable,
                    split.stable_bp,
                    split.canary,
                    split.canary_bp,
                    split.generation,
                )
        for service in set(old) - set(splits):
            logger.info("split of %r removed: all its instances are selected as usual", service)
            self.last_window.pop(service, None)
        self.table.replace(splits)
        self.counters.forget(set(splits))

    def judge_all(self) -> None:
        for split in list(self.table.splits.values()):
            deltas = self.counters.take(split.service, split.generation)
            if split.canary_bp == 0:
                continue  # nothing left to roll back; its traffic is not a canary sample
            now = self.clock()
            try:
                totals = self.store.add_and_sum(split, deltas, now, self.policy.window_s)
            except REDIS_UNAVAILABLE_ERRORS:
                self.counters.give_back(split.service, split.generation, deltas)
                raise
            self.last_window[split.service] = totals
            verdict = judge(totals, self.policy)
            if verdict is not None:
                self._roll_back(split, verdict, now)

    def _roll_back(self, split: Split, verdict: dict[str, Any], now: float) -> None:
        rolled = self.store.rollback(split, verdict, int(now * 1000))
        if rolled is None:
            return  # another process did it first (or the split changed meanwhile)
        self.counters.rollbacks[split.service] += 1
        logger.warning(
            "split of %r: canary %s rolled back to 0 bp (was %d bp): %s",
            split.service,
            split.canary,
            split.canary_bp,
            verdict["reason"],
        )
        self.apply({**self.table.splits, split.service: rolled})

    def status(self) -> dict[str, Any]:
        report = self.connection_status()
        report["resyncs"] = self.resyncs
        report["last_resync_at"] = iso_utc(self.last_resync_at * 1000) if self.last_resync_at else None
        return report
