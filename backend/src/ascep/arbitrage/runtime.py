"""Everything one arbitrage process holds, and its lifecycle (``app.extensions["ascep.arbitrage"]``)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from ascep.arbitrage.engine import ArbitrageEngine
from ascep.arbitrage.listener import ArbitrageListener
from ascep.arbitrage.settings import ArbitrageSettings
from ascep.arbitrage.store import SignalStore

logger = logging.getLogger(__name__)

#: How long :meth:`ArbitrageRuntime.stop` waits for the listener's current turn to end.
STOP_TIMEOUT_S = 10.0


@dataclass
class ArbitrageRuntime:
    """Engine, signal store and the listener loop that feeds them (started on its own thread)."""

    settings: ArbitrageSettings
    engine: ArbitrageEngine
    store: SignalStore
    listener: ArbitrageListener
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.listener.run, name="arbitrage-listener", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the loop, then hand the leader lease over (a standby takes over at its next sweep)."""
        self.listener.stop()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_S)
        self.listener.release_lease()
        logger.info("arbitrage listener stopped: %d signal events written", self.listener.written_events)
