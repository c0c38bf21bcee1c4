"""The supervised Redis pub/sub loop every bus consumer runs on.

The gateway's bridge, the arbitrage listener and the CEP engine all need the same machinery:
connect, subscribe, resynchronise what may have been missed, then read messages in bounded turns,
ticking at least every ``tick_interval`` — and on any error log with context, back off (capped,
reset after a successful subscribe), reconnect and start over. This class is that machinery; a
consumer subclasses it and fills in the hooks (``on_subscribed``, ``handle``, ``tick``,
``after_turn``...). ``state`` is what a health check reports: anything but ``connected`` means
the subscription is dead. Times in the report are ISO 8601 UTC like every other time the platform
shows; ages are seconds.

The pub/sub connection has no socket timeout (a quiet bus is not an error): TCP keepalive and
redis-py's health check find dead peers.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import redis

from ascep.common.backoff import Backoff
from ascep.common.events import EventFormatError, decode
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS, connect
from ascep.common.timeutil import iso_utc

logger = logging.getLogger(__name__)

MAX_MESSAGES_PER_TURN = 500
_ERROR_TEXT_MAX = 300


class BusSubscriber:
    """Base of a long-running consumer of bus channels; subclasses implement :meth:`handle`."""

    #: Name in log lines ("bus bridge", "CEP engine", ...).
    label = "bus subscriber"

    def __init__(
        self,
        redis_url: str,
        channel_names: Sequence[str],
        *,
        sleep: Callable[[float], Any],
        tick_interval: float,
    ) -> None:
        self.redis_url = redis_url
        self.channel_names = tuple(channel_names)
        self.sleep = sleep
        self.tick_interval = tick_interval
        self.state = "starting"
        self.connected_since: float | None = None
        self.last_message_at: float | None = None
        self.received: Counter[str] = Counter()
        self.malformed = 0
        self.reconnects = 0
        self.last_error: str | None = None
        self._stopping = False

    # --- hooks -----------------------------------------------------------------------------
    def on_subscribed(self, client: redis.Redis) -> None:
        """After every (re)subscribe, before the first message: catch up on what was missed."""

    def validate(self, channel: str, payload: dict[str, Any]) -> None:
        """Raise :class:`EventFormatError` for a payload this consumer cannot use."""

    def handle(self, channel: str, payload: dict[str, Any]) -> None:
        raise NotImplementedError

    def on_malformed(self) -> None:
        """Called once per malformed message (after it is counted)."""

    def turn(self) -> contextlib.AbstractContextManager[Any]:
        """Held while one turn's messages and tick are processed (e.g. a lock)."""
        return contextlib.nullcontext()

    def tick(self) -> None:
        """At least every ``tick_interval``: timers, sweeps, flushes."""

    def after_turn(self) -> None:
        """After each turn, outside :meth:`turn`: writes and side effects of what was handled."""

    def subscribed_message(self) -> str:
        return f"{self.label} subscribed to {', '.join(self.channel_names)}"

    # --- the loop --------------------------------------------------------------------------
    def run(self) -> None:
        backoff = Backoff(initial=0.1, cap=5.0)
        while not self._stopping:
            client = connect(self.redis_url, for_pubsub=True, retries=0)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(*self.channel_names)
                self.on_subscribed(client)
                if self.state != "connected":
                    logger.info("%s", self.subscribed_message())
                self.state = "connected"
                self.connected_since = time.time()
                backoff.reset()
                self._pump(pubsub)
            except REDIS_UNAVAILABLE_ERRORS as exc:
                self._lost(exc, backoff)
            except Exception as exc:
                logger.exception("%s failed unexpectedly", self.label)
                self._lost(exc, backoff)
            finally:
                _close_quietly(pubsub, client)

    def stop(self) -> None:
        self._stopping = True
        self.state = "stopped"

    def receive(self, message: dict[str, Any]) -> None:
        """Decode, validate, count and hand one pub/sub message to :meth:`handle`."""
        channel = message.get("channel")
        if not isinstance(channel, str):
            return
        try:
            payload = decode(message["data"])
            self.validate(channel, payload)
        except EventFormatError as exc:
            self.malformed += 1
            self.on_malformed()
            if self.malformed <= 10 or self.malformed % 1000 == 0:
                logger.warning(
                    "%s: skipping malformed message on %s (%s); %d so far",
                    self.label,
                    channel,
                    exc,
                    self.malformed,
                )
            return
        self.last_message_at = time.time()
        self.received[channel] += 1
        self.handle(channel, payload)

    def _pump(self, pubsub: redis.client.PubSub) -> None:
        next_tick = time.monotonic() + self.tick_interval
        while not self._stopping:
            message = pubsub.get_message(timeout=max(0.0, next_tick - time.monotonic()))
            with self.turn():
                handled = 0
                while message is not None:
                    self.receive(message)
                    handled += 1
                    if handled >= MAX_MESSAGES_PER_TURN:
                        break
                    message = pubsub.get_message(timeout=0.0)
                if time.monotonic() >= next_tick:
                    self.tick()
                    next_tick = time.monotonic() + self.tick_interval
            self.after_turn()
            self.sleep(0)  # let the other green threads (HTTP, writers) run between bursts

    def _lost(self, exc: BaseException, backoff: Backoff) -> None:
        if self._stopping:
            return
        delay = backoff.next_delay()
        if self.state == "connected":
            self.reconnects += 1
        self.state = "reconnecting"
        self.connected_since = None
        self.last_error = f"{type(exc).__name__}: {exc}"[:_ERROR_TEXT_MAX]
        logger.warning("%s lost Redis (%s); retrying in %.2fs", self.label, self.last_error, delay)
        self.sleep(delay)

    # --- reporting -------------------------------------------------------------------------
    def connection_status(self) -> dict[str, Any]:
        age = round(time.time() - self.last_message_at, 3) if self.last_message_at else None
        return {
            "state": self.state,
            "connected_since": iso_utc(self.connected_since * 1000) if self.connected_since else None,
            "last_message_age_seconds": age,
            "malformed_messages": self.malformed,
            "reconnects": self.reconnects,
            "last_error": self.last_error,
        }


def _close_quietly(pubsub: redis.client.PubSub, client: redis.Redis) -> None:
    for closer in (pubsub.close, client.close):
        try:
            closer()
        except Exception:  # closing a broken connection may fail; nothing to do about it
            logger.debug("ignoring error while closing a Redis connection", exc_info=True)
