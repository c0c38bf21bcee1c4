"""Backpressure: which clients lag behind, and what they are owed when they catch up.

Each tick looks at every client's Engine.IO queue. Above ``queue_high`` packets the client is
*lagging*: room emits skip it (:attr:`Backpressure.skip`), its prices are conflated to the latest
per symbol and other events wait in a bounded backlog (oldest dropped, counted). Once its queue is
down to ``queue_low`` it gets what it is owed in one go and rejoins the live stream. The gap
between the two marks keeps a client near the limit from flapping. A stuck client therefore costs
the others nothing. Not thread-safe on its own: :class:`~ascep.gateway.realtime.fanout.Fanout`
holds the lock.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ascep.gateway.realtime.emitter import Emitter

logger = logging.getLogger(__name__)

#: Sends a caught-up client its conflated prices (in time order), the way it subscribed to them.
SendPrices = Callable[[str, list[dict[str, Any]]], None]


@dataclass
class Owed:
    """What a lagging client has not been sent: the latest price per symbol, other events in order."""

    prices: dict[str, dict[str, Any]] = field(default_factory=dict)
    backlog: deque[tuple[str, Any]] = field(default_factory=deque)


class Backpressure:
    def __init__(self, emitter: Emitter, *, backlog_max: int, queue_high: int, queue_low: int) -> None:
        self.emitter = emitter
        self.backlog_max = backlog_max
        self.queue_high = queue_high
        self.queue_low = queue_low
        #: Lagging clients, in the order they fell behind; also the ``skip`` list of every room emit.
        self.lagging: list[str] = []
        self._owed: dict[str, Owed] = {}
        self.conflated_total = 0
        self.dropped_total = 0

    @property
    def skip(self) -> list[str] | None:
        """The clients a room emit must skip (None when nobody lags: the common case)."""
        return self.lagging or None

    def is_lagging(self, sid: str) -> bool:
        return sid in self._owed

    def conflate(self, sid: str, price: dict[str, Any]) -> None:
        """Keep only the newest price per symbol for a lagging client."""
        owed = self._owed[sid].prices
        if price["symbol"] in owed:
            self.conflated_total += 1
        owed[price["symbol"]] = price

    def owe_prices(self, sid: str, prices: Iterable[dict[str, Any]]) -> None:
        """A lagging client's new snapshot: sent when it catches up, superseding nothing counted."""
        self._owed[sid].prices.update({p["symbol"]: p for p in prices})

    def forget_prices(self, sid: str) -> None:
        """The client dropped its price subscription: it is owed no prices any more."""
        owed = self._owed.get(sid)
        if owed is not None:
            owed.prices.clear()

    def hold(self, sid: str, event: str, payload: Any) -> None:
        """Queue a non-price event for a lagging client, dropping its oldest beyond ``backlog_max``."""
        backlog = self._owed[sid].backlog
        if len(backlog) >= self.backlog_max:
            backlog.popleft()
            self.dropped_total += 1
        backlog.append((event, payload))

    def forget(self, sid: str) -> None:
        """The client disconnected."""
        if self._owed.pop(sid, None) is not None:
            self.lagging.remove(sid)

    def check(self, clients: Iterable[str], send_prices: SendPrices) -> None:
        """Re-evaluate every client's queue: mark new laggards, catch up those that drained."""
        for sid in clients:
            size = self.emitter.queue_size(sid)
            if size is None:
                continue
            lagging = sid in self._owed
            if not lagging and size > self.queue_high:
                self._owed[sid] = Owed()
                self.lagging.append(sid)
                logger.info("client %s lags (%d packets queued): conflating its prices", sid, size)
            elif lagging and size <= self.queue_low:
                self._catch_up(sid, send_prices)

    def _catch_up(self, sid: str, send_prices: SendPrices) -> None:
        owed = self._owed.pop(sid)
        self.lagging.remove(sid)
        if owed.prices:
            send_prices(sid, sorted(owed.prices.values(), key=lambda p: p["ts"]))
        while owed.backlog:
            event, payload = owed.backlog.popleft()
            self.emitter.emit(event, payload, sid, None)
        logger.info("client %s caught up", sid)
