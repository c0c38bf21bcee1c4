"""Keeps this process's breakers in step with the shared records: pub/sub plus a periodic resync.

A ``circuit_state`` message is only a doorbell: the record is re-read from the hash (one ``HGET``,
off the request path), so a forged or reordered message can never set a state. Pub/sub drops
messages while a subscriber is disconnected or slow (pybreaker#24's "stuck open" is the same
failure), so the whole hash is also read after every (re)subscribe and every
``resync_interval`` seconds: a missed transition is honoured within that interval.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import redis

from ascep.common import channels
from ascep.common.events import EventFormatError
from ascep.common.subscriber import BusSubscriber
from ascep.common.timeutil import iso_utc
from ascep.gateway.upstreams.breaker_store import BreakerStore
from ascep.gateway.upstreams.breakers import BreakerBoard
from ascep.gateway.upstreams.model import UpstreamKey

logger = logging.getLogger(__name__)


class BreakerSync(BusSubscriber):
    label = "breaker sync"

    def __init__(
        self,
        redis_url: str,
        board: BreakerBoard,
        store: BreakerStore,
        *,
        sleep: Callable[[float], Any],
        resync_interval: float,
    ) -> None:
        super().__init__(redis_url, (channels.CIRCUIT_STATE,), sleep=sleep, tick_interval=resync_interval)
        self.board = board
        self.store = store
        self.resyncs = 0
        self.last_resync_at: float | None = None

    def on_subscribed(self, client: redis.Redis) -> None:
        self.resync()

    def validate(self, channel: str, payload: dict[str, Any]) -> None:
        for name in ("service", "instance"):
            if not isinstance(payload.get(name), str) or not payload[name]:
                raise EventFormatError(name, "must be a non-empty string")

    def handle(self, channel: str, payload: dict[str, Any]) -> None:
        key = UpstreamKey(payload["service"], payload["instance"])
        record = self.store.read(key)
        if record is not None:
            self.board.apply_shared({key: record})

    def tick(self) -> None:
        self.resync()

    def resync(self) -> None:
        """Read every record and adopt the newer ones (errors end the turn: the loop reconnects)."""
        self.board.apply_shared(self.store.read_all())
        self.resyncs += 1
        self.last_resync_at = self.board.clock()

    def status(self) -> dict[str, Any]:
        report = self.connection_status()
        report["resyncs"] = self.resyncs
        report["last_resync_at"] = iso_utc(self.last_resync_at * 1000) if self.last_resync_at else None
        return report
