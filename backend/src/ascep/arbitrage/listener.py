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
from ascep.common.backoff import Backoff
from ascep.common.events import EventFormatError, decode
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS, connect
from ascep.common.timeutil import now_ms

logger = logging.getLogger(__name__)

MAX_MESSAGES_PER_TURN = 500
PENDING_MAX = 10_000


class ArbitrageListener:
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
        self.redis_url = redis_url
        self.engine = engine
        self.store = store
        self.sweep_interval = sweep_interval
        self.sleep = sleep
        self.clock = clock
        self.state = "starting"
        self.connected_since: float | None = None
        self.reconnects = 0
        self.malformed = 0
        self.last_error: str | None = None
        self.pending: deque[SignalEvent] = deque()
        self.dropped_events = 0
        self.written_events = 0
        self.lease = lease or LeaderLease(store.client, 0.0)
        self.leader = False
        self._stopping = False

    # --- lifecycle ---
    def run(self) -> None:
        backoff = Backoff(initial=0.1, cap=5.0)
        while not self._stopping:
            client = connect(self.redis_url, for_pubsub=True, retries=0)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(channels.PRICE_UPDATES, channels.CONFIG_CHANGES)
                self._resync()
                if self.state != "connected":
                    logger.info("arbitrage listener subscribed to %s", channels.PRICE_UPDATES)
                self.state = "connected"
                self.connected_since = time.time()
                backoff.reset()
                self._pump(pubsub)
            except REDIS_UNAVAILABLE_ERRORS as exc:
                self._lost(exc, backoff)
            except Exception as exc:
                logger.exception("arbitrage listener failed unexpectedly")
                self._lost(exc, backoff)
            finally:
                _close_quietly(pubsub, client)

    def stop(self) -> None:
        """Stop the loop and hand the lease over at once (a standby takes over at its next sweep)."""
        self._stopping = True
        self.state = "stopped"
        if self.leader:
            try:
                self.lease.release()
            except (redis.RedisError, *REDIS_UNAVAILABLE_ERRORS) as exc:
                logger.warning("could not release the arbitrage lease (%s); it will expire", exc)

    def _lost(self, exc: BaseException, backoff: Backoff) -> None:
        delay = backoff.next_delay()
        if self.state == "connected":
            self.reconnects += 1
        self.state = "reconnecting"
        self.connected_since = None
        self.last_error = f"{type(exc).__name__}: {exc}"[:300]
        logger.warning("arbitrage listener lost Redis (%s); retrying in %.2fs", self.last_error, delay)
        self.sleep(delay)

    # --- (re)connection ---
    def _resync(self) -> None:
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
    def _pump(self, pubsub: redis.client.PubSub) -> None:
        next_sweep = time.monotonic() + self.sweep_interval
        while not self._stopping:
            message = pubsub.get_message(timeout=max(0.0, next_sweep - time.monotonic()))
            handled = 0
            while message is not None:
                self._dispatch(message)
                handled += 1
                if handled >= MAX_MESSAGES_PER_TURN:
                    break
                message = pubsub.get_message(timeout=0.0)
            now = self.clock()
            self._enqueue(self.engine.apply_pending(now))
            if time.monotonic() >= next_sweep:
                self._check_leadership()
                self._enqueue(self.engine.sweep(now))
                next_sweep = time.monotonic() + self.sweep_interval
            self._flush()
            self.sleep(0)  # let HTTP requests run between bursts

    def _dispatch(self, message: dict[str, Any]) -> None:
        channel = message.get("channel")
        try:
            payload = decode(message["data"])
        except EventFormatError as exc:
            self.malformed += 1
            if self.malformed <= 10 or self.malformed % 1000 == 0:
                logger.warning(
                    "skipping malformed message on %s (%s); %d so far", channel, exc, self.malformed
                )
            return
        if channel == channels.PRICE_UPDATES:
            self._enqueue(self.engine.on_record(payload, self.clock()))
        elif channel == channels.CONFIG_CHANGES and payload.get("service") == "arbitrage":
            self._apply_config(payload.get("config"), origin="config_changes")

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
        return {
            "state": self.state,
            "role": "leader" if self.leader else "standby",
            "connected_since": self.connected_since,
            "reconnects": self.reconnects,
            "malformed_messages": self.malformed,
            "pending_events": len(self.pending),
            "dropped_events": self.dropped_events,
            "written_events": self.written_events,
            "last_error": self.last_error,
        }


def _close_quietly(pubsub: redis.client.PubSub, client: redis.Redis) -> None:
    for closer in (pubsub.close, client.close):
        try:
            closer()
        except Exception:  # closing a broken connection may fail; nothing to do about it
            logger.debug("ignoring error while closing a Redis connection", exc_info=True)
