"""A thread that ticks a :class:`SimulatedMarket` at a fixed rate and emits every pair each tick.

Used for forex (always simulated: there is no free real-time forex feed) and for crypto offline or
as Binance's stand-in. A *gate* lets the crypto failover keep this source on standby while
Binance delivers; when the gate opens, ``on_activate`` can re-anchor the market on the last real
prices so the hand-over does not jump.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from ascep.common.loops import LoopThread
from ascep.common.timeutil import now_ms
from ascep.price_feed.market_sim import SimulatedMarket
from ascep.price_feed.mispricing import MispricingInjector
from ascep.price_feed.source_status import Emit, SourceStatus

logger = logging.getLogger(__name__)

#: If the loop falls this far behind schedule (overloaded host) it skips ahead instead of bursting.
_MAX_LAG_S = 1.0


class SimulatedSource:
    """Emits ``tick_rate`` records per second per pair of ``market``."""

    def __init__(
        self,
        name: str,
        market: SimulatedMarket,
        tick_rate: float,
        emit: Emit,
        *,
        gate: Callable[[], bool] | None = None,
        on_activate: Callable[[SimulatedMarket], None] | None = None,
        injector: MispricingInjector | None = None,
    ) -> None:
        if tick_rate <= 0:
            raise ValueError("tick_rate must be positive")
        self.name = name
        self.market = market
        self.period = 1.0 / tick_rate
        self._emit = emit
        self._gate = gate
        self._on_activate = on_activate
        self.injector = injector
        self.status = SourceStatus(name)
        self.active = False
        self.activations = 0
        self._loop = LoopThread(self._run, f"{self.name}-source")
        self._stopping = self._loop.stopping

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._loop.stop(timeout)
        self.status.disconnected("stopped")

    def report(self) -> dict[str, Any]:
        """``GET /sources`` entry: live status, rate, failover activations, injected mispricing."""
        entry = {
            **self.status.snapshot(),
            "symbols": len(self.market.pairs),
            "tick_rate": round(1 / self.period, 3),
            "activations": self.activations,
        }
        injector = self.injector
        if injector is not None:
            wall_offset = time.time() - time.monotonic()
            entry["mispricing"] = {
                "enabled": injector.enabled,
                "interval_seconds": injector.interval,
                "injected": injector.injected,
                "active": injector.active.as_dict(wall_offset) if injector.active else None,
            }
        return entry

    def _run(self) -> None:
        last = next_at = time.monotonic()
        while not self._stopping.is_set():
            now = time.monotonic()
            if self._gate is not None and not self._gate():
                if self.active:
                    logger.info("%s source back on standby", self.name)
                self.active = False
                self.status.disconnected("standby")
                last = next_at = now
                self._stopping.wait(min(self.period, 0.1))
                continue
            if not self.active:
                self._activate()
            try:
                self._tick(now, now - last)
            except Exception as exc:  # a bug in a tick must not end the feed
                self.status.error(type(exc).__name__, str(exc))
                logger.exception("%s tick failed", self.name)
            last = now
            next_at += self.period
            delay = next_at - time.monotonic()
            if delay < -_MAX_LAG_S:
                next_at = time.monotonic()
            if delay > 0:
                self._stopping.wait(delay)
            else:
                time.sleep(0)  # stay cooperative under eventlet even when behind schedule

    def _activate(self) -> None:
        self.active = True
        self.activations += 1
        if self._on_activate is not None:
            self._on_activate(self.market)
        self.status.connected()
        self.status.set_state("active")
        logger.info("%s source active (%d pairs)", self.name, len(self.market.pairs))

    def _tick(self, now: float, elapsed: float) -> None:
        if self.injector is not None:
            self.injector.update(now)
        self.market.step(elapsed)
        ts = now_ms()
        received_ns = time.monotonic_ns()
        status = self.status
        for symbol in self.market.pairs:
            status.message()
            status.published += 1
            self._emit(self.market.record(symbol, ts), received_ns)
