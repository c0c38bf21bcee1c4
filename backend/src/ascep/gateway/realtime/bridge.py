"""The supervised Redis pub/sub listener that feeds the fan-out.

One greenlet per gateway: it subscribes to every bus channel, seeds the latest-price cache from
Redis, then reads messages and hands them to :class:`~.fanout.Fanout`, ticking the fan-out at least
every ``tick_interval`` (batch flush, lag checks). On any error it logs, backs off (capped, reset
after a successful subscribe), reconnects and resubscribes; clients keep their Socket.IO
connections throughout and simply see the stream resume. The loop itself is
:class:`~ascep.common.subscriber.BusSubscriber`; this module is what the gateway does with it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import redis

from ascep.common import channels
from ascep.common.events import EventFormatError, PriceUpdate, decode
from ascep.common.subscriber import BusSubscriber
from ascep.gateway.realtime.fanout import Fanout

BUS_CHANNELS = (
    channels.PRICE_UPDATES,
    channels.ARBITRAGE_SIGNALS,
    channels.CEP_ALERTS,
    channels.CEP_SIGNALS,
    channels.SERVICE_STATUS,
    channels.TASK_UPDATES,
    channels.CIRCUIT_STATE,
    channels.SPLIT_ROLLBACK,
)


class RedisBridge(BusSubscriber):
    label = "bus bridge"

    def __init__(
        self,
        redis_url: str,
        fanout: Fanout,
        *,
        sleep: Callable[[float], Any],
        tick_interval: float = 0.05,
    ) -> None:
        super().__init__(redis_url, BUS_CHANNELS, sleep=sleep, tick_interval=tick_interval)
        self.fanout = fanout
        self._routes: dict[str, Callable[[dict[str, Any]], None]] = {
            channels.PRICE_UPDATES: fanout.on_price,
            channels.ARBITRAGE_SIGNALS: fanout.on_signal,
            channels.CEP_ALERTS: fanout.on_alert,
            channels.CEP_SIGNALS: fanout.on_cep_signal,
            channels.SERVICE_STATUS: lambda p: fanout.on_broadcast(channels.EVENT_SERVICE_STATUS, p),
            channels.TASK_UPDATES: lambda p: fanout.on_broadcast(channels.EVENT_TASK_UPDATE, p),
            channels.CIRCUIT_STATE: lambda p: fanout.on_broadcast(channels.EVENT_CIRCUIT_STATE, p),
            channels.SPLIT_ROLLBACK: lambda p: fanout.on_broadcast(channels.EVENT_SPLIT_ROLLBACK, p),
        }

    @property
    def forwarded(self) -> Counter[str]:
        """Events forwarded per channel (every valid message is)."""
        return self.received

    def on_subscribed(self, client: redis.Redis) -> None:
        """Seed the latest prices from Redis so snapshots work before the first tick arrives."""
        for raw in client.hvals(channels.PRICES_LATEST_KEY):
            try:
                payload = decode(raw)
                PriceUpdate.route(payload)
                self.fanout.prime(payload)
            except EventFormatError:
                self.malformed += 1

    def validate(self, channel: str, payload: dict[str, Any]) -> None:
        """Prices are ordered per symbol, so they need what :meth:`PriceUpdate.route` checks; the
        other channels are forwarded as published (see :mod:`ascep.common.events`)."""
        if channel == channels.PRICE_UPDATES:
            PriceUpdate.route(payload)

    def handle(self, channel: str, payload: dict[str, Any]) -> None:
        route = self._routes.get(channel)
        if route is not None:
            route(payload)

    def tick(self) -> None:
        self.fanout.tick()

    def status(self) -> dict[str, Any]:
        report = self.connection_status()
        report["events_forwarded"] = dict(self.received)
        return report
