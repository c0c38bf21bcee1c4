"""The supervised loop: price channel in, signals stored and published out.

One thread subscribes to ``price_updates`` (and to ``ascep:config_changes`` for live
configuration), runs every record through the :class:`~.engine.ArbitrageEngine`, sweeps for stale
signals every ``sweep_interval`` seconds, and writes each signal event to Redis through
:class:`~.store.SignalStore` (one atomic script per event, which also publishes it).

On any Redis error it logs, backs off (capped, reset after a successful subscribe), reconnects,
re-reads the persisted config, re-seeds quotes from ``ascep:prices:latest`` and writes the events
it could not write (kept in a bounded queue, the oldest dropped and counted). ``state`` is what
``/health`` reports: anything but ``connected`` means the price subscription is dead.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import redis

from ascep.arbitrage.config import ConfigValidationError, from_stored
from ascep.arbitrage.engine import ArbitrageEngine
from ascep.arbitrage.leadership import LeaderLease
from ascep.arbitrage.lifecycle import SignalEvent
from ascep.arbitrage.store import SignalStore
from ascep.common import channels
from ascep.common.events import ConfigChange, EventFormatError, decode
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS
from ascep.common.subscriber import BusSubscriber
from ascep.common.timeutil import now_ms

logger = logging.getLogger(__name__)

PENDING_MAX = 10_000


class ArbitrageListener(BusSubscriber):
    label = "arbitrage listener"

    def __init__(
        self,
        redis_url: str,
        engine: ArbitrageEngine,
        store: SignalStore,
        *,
        lease: LeaderLease | None = None,
        sweep_interval: float = 0.5,
        sleep: Callable[[float], Any] = time.sleep,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        super().__init__(
            redis_url,
            (channels.PRICE_UPDATES, channels.CONFIG_CHANGES),
            sleep=sleep,
            tick_interval=sweep_interval,
        )
        self.engine = engine
        self.store = store
        self.sweep_interval = sweep_interval
        self.clock = clock
        self.pending: deque[SignalEvent] = deque()
        self.dropped_events = 0
        self.written_events = 0
        self.lease = lease or LeaderLease(store.client, 0.0)
        self.leader = False

    # --- lifecycle ---
    def release_lease(self) -> None:
        """Hand the lease over at once (a standby takes over at its next sweep).

        Call it after the loop has ended: a sweep still running would take the lease back.
        """
        if self.leader:
            self.leader = False
            try:
                self.lease.release()
            except (redis.RedisError, *REDIS_UNAVAILABLE_ERRORS) as exc:
                logger.warning("could not release the arbitrage lease (%s); it will expire", exc)

    # --- (re)connection ---
    def on_subscribed(self, client: redis.Redis) -> None:
        """After (re)subscribing: persisted config, open signals to resume, latest quotes, backlog."""
        stored = self.store.load_config()
        if stored is not None:
            self._apply_config(stored, origin="redis")
        self._check_leadership()
        known = [state.id for state in self.engine.tracker.open.values() if state.id is not None]
        if known:
            self.store.ensure_ids_above(max(known))
        now = self.clock()
        self._enqueue(self.engine.apply_pending(now))
        for raw in self.store.client.hvals(channels.PRICES_LATEST_KEY):
            try:
                self._enqueue(self.engine.on_record(decode(raw), now))
            except EventFormatError:
                self.malformed += 1
        self._enqueue(self.engine.sweep(now))
        self._flush()

    def _check_leadership(self) -> None:
        """Renew (or try to take) the lease; on taking it, line up with the stored open signals."""
        leader = self.lease.acquire_or_renew()
        if leader and not self.leader:
            stored = {str(doc["key"]): doc for doc in self.store.open_signals() if "key" in doc}
            if self.lease.enabled:
                logger.info("this instance now stores and publishes signals (%d open in Redis)", len(stored))
            self.leader = True
            self._enqueue(self.engine.takeover(stored, self.clock()))
        elif not leader and self.leader:
            logger.warning("lost the arbitrage lease to %s: standing by", self.lease.holder())
            self.leader = False
            self.pending.clear()
        self.leader = leader

    def _apply_config(self, document: Any, *, origin: str) -> None:
        try:
            config = from_stored(document)
        except ConfigValidationError as exc:
            logger.error("ignoring invalid arbitrage config from %s: %s", origin, exc)
            return
        if config != self.engine.detector.config:
            logger.info("applying arbitrage config from %s", origin)
            self.engine.request_config(config)

    # --- steady state ---
    def handle(self, channel: str, payload: dict[str, Any]) -> None:
        if channel == channels.PRICE_UPDATES:
            self._enqueue(self.engine.on_record(payload, self.clock()))
        elif channel == channels.CONFIG_CHANGES:
            try:
                change = ConfigChange.from_dict(payload)
            except EventFormatError:
                return  # not addressed to any service: nothing for us either
            if change.service == "arbitrage":
                self._apply_config(change.config, origin="config_changes")

    def tick(self) -> None:
        """Every ``sweep_interval``: renew the lease, close signals whose quotes went stale."""
        self._check_leadership()
        self._enqueue(self.engine.sweep(self.clock()))

    def after_turn(self) -> None:
        self._enqueue(self.engine.apply_pending(self.clock()))
        self._flush()

    # --- writing ---
    def _enqueue(self, events: list[SignalEvent]) -> None:
        for event in events:
            if len(self.pending) >= PENDING_MAX:
                self.pending.popleft()
                self.dropped_events += 1
            self.pending.append(event)

    def _flush(self) -> None:
        """Write queued events in order; a Redis error leaves the rest queued and propagates.

        A standby writes nothing: the lease holder publishes the same opportunities."""
        if not self.leader:
            self.pending.clear()
            return
        while self.pending:
            event = self.pending[0]
            state = event.state
            if state.id is None:
                state.id = self.store.next_id()
            payload = dict(event.payload, id=state.id)
            # An update whose open was dropped from a full queue is stored as the open it is.
            kind = event.kind if state.stored or event.kind in ("open", "close") else "open"
            try:
                self.store.write(kind, payload, self.clock())
            except redis.ResponseError:
                # Redis refused this write (not an outage): retrying it would block every later
                # event, so it is dropped, counted and logged.
                logger.exception("Redis rejected signal %s (%s); dropping the event", state.id, kind)
                self.pending.popleft()
                self.dropped_events += 1
                continue
            state.stored = True
            self.pending.popleft()
            self.written_events += 1

    def status(self) -> dict[str, Any]:
        return self.connection_status() | {
            "role": "leader" if self.leader else "standby",
            "pending_events": len(self.pending),
            "dropped_events": self.dropped_events,
            "written_events": self.written_events,
        }
