"""The supervised Redis pub/sub listener that feeds the fan-out.

One greenlet per gateway: it subscribes to every bus channel, seeds the latest-price cache from
Redis, then reads messages and hands them to :class:`~.fanout.Fanout`, ticking the fan-out at least
every ``tick_interval`` (batch flush, lag checks). On any error it logs, backs off (capped, reset
after a successful subscribe), reconnects and resubscribes; clients keep their Socket.IO
connections throughout and simply see the stream resume. The pub/sub connection has no socket
timeout (a quiet bus is not an error): TCP keepalive and redis-py's health check find dead peers.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import redis

from ascep.common import channels
from ascep.common.backoff import Backoff
from ascep.common.events import EventFormatError, decode
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS, connect
from ascep.gateway.realtime.fanout import Fanout

logger = logging.getLogger(__name__)

BUS_CHANNELS = (
    channels.PRICE_UPDATES,
    channels.ARBITRAGE_SIGNALS,
    channels.CEP_ALERTS,
    channels.SERVICE_STATUS,
    channels.TASK_UPDATES,
)
MAX_MESSAGES_PER_TURN = 500


class RedisBridge:
    def __init__(
        self,
        redis_url: str,
        fanout: Fanout,
        *,
        sleep: Callable[[float], Any],
        tick_interval: float = 0.05,
    ) -> None:
        self.redis_url = redis_url
        self.fanout = fanout
        self.sleep = sleep
        self.tick_interval = tick_interval
        self.state = "starting"
        self.connected_since: float | None = None
        self.last_message_at: float | None = None
        self.forwarded: Counter[str] = Counter()
        self.malformed = 0
        self.reconnects = 0
        self.last_error: str | None = None
        self._stopping = False
        self._routes: dict[str, Callable[[dict[str, Any]], None]] = {
            channels.PRICE_UPDATES: fanout.on_price,
            channels.ARBITRAGE_SIGNALS: fanout.on_signal,
            channels.CEP_ALERTS: fanout.on_alert,
            channels.SERVICE_STATUS: lambda p: fanout.on_broadcast(channels.EVENT_SERVICE_STATUS, p),
            channels.TASK_UPDATES: lambda p: fanout.on_broadcast(channels.EVENT_TASK_UPDATE, p),
        }

    def run(self) -> None:
        backoff = Backoff(initial=0.1, cap=5.0)
        while not self._stopping:
            client = connect(self.redis_url, for_pubsub=True, retries=0)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(*BUS_CHANNELS)
                self._prime(client)
                if self.state != "connected":
                    logger.info("bus bridge subscribed to %s", ", ".join(BUS_CHANNELS))
                self.state = "connected"
                self.connected_since = time.time()
                backoff.reset()
                self._pump(pubsub)
            except REDIS_UNAVAILABLE_ERRORS as exc:
                self._lost(exc, backoff)
            except Exception as exc:
                logger.exception("bus bridge failed unexpectedly")
                self._lost(exc, backoff)
            finally:
                _close_quietly(pubsub, client)

    def _lost(self, exc: BaseException, backoff: Backoff) -> None:
        delay = backoff.next_delay()
        if self.state == "connected":
            self.reconnects += 1
        self.state = "reconnecting"
        self.connected_since = None
        self.last_error = f"{type(exc).__name__}: {exc}"
        logger.warning("bus bridge lost Redis (%s); retrying in %.2fs", self.last_error, delay)
        self.sleep(delay)

    def _prime(self, client: redis.Redis) -> None:
        """Seed the latest prices from Redis so snapshots work before the first tick arrives."""
        for raw in client.hvals(channels.PRICES_LATEST_KEY):
            try:
                payload = decode(raw)
                if isinstance(payload.get("symbol"), str) and isinstance(payload.get("ts"), int | float):
                    self.fanout.prime(payload)
            except EventFormatError:
                self.malformed += 1

    def _pump(self, pubsub: redis.client.PubSub) -> None:
        next_tick = time.monotonic() + self.tick_interval
        while not self._stopping:
            message = pubsub.get_message(timeout=max(0.0, next_tick - time.monotonic()))
            handled = 0
            while message is not None and handled < MAX_MESSAGES_PER_TURN:
                self._dispatch(message)
                handled += 1
                message = pubsub.get_message(timeout=0.0)
            if message is not None:
                self._dispatch(message)
            if time.monotonic() >= next_tick:
                self.fanout.tick()
                next_tick = time.monotonic() + self.tick_interval
            self.sleep(0)  # let the clients' writers run between bursts

    def _dispatch(self, message: dict[str, Any]) -> None:
        channel = message.get("channel")
        route = self._routes.get(channel)  # type: ignore[arg-type]
        if route is None:
            return
        try:
            payload = decode(message["data"])
            if channel == channels.PRICE_UPDATES and not (
                isinstance(payload.get("symbol"), str) and isinstance(payload.get("ts"), int | float)
            ):
                raise EventFormatError("symbol/ts", "a price update needs a symbol and a numeric ts")
        except EventFormatError as exc:
            self.malformed += 1
            if self.malformed <= 10 or self.malformed % 1000 == 0:
                logger.warning(
                    "skipping malformed message on %s (%s); %d so far", channel, exc, self.malformed
                )
            return
        self.last_message_at = time.time()
        self.forwarded[channel] += 1  # type: ignore[index]
        route(payload)

    def stop(self) -> None:
        self._stopping = True
        self.state = "stopped"

    def status(self) -> dict[str, Any]:
        age = round(time.time() - self.last_message_at, 3) if self.last_message_at else None
        return {
            "state": self.state,
            "connected_since": self.connected_since,
            "last_message_age_seconds": age,
            "events_forwarded": dict(self.forwarded),
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
