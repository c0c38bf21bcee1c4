"""The two shapes of ASCEP's background loops, written once.

* :func:`run_every` — call one step every ``interval`` seconds until stopped; a failure waits a
  :class:`Backoff` (starting at ``interval``, capped at 30 s or ``interval`` if larger) instead,
  and a success resets it. The health monitor's rounds, the worker heartbeat and the task reaper
  run this way; each passes its own ``on_error`` so the log line names the loop and stays in the
  caller's logger. :class:`PeriodicLoop` is that loop as a class, for a step that only needs Redis
  (the worker heartbeat, the task reaper).
* :class:`LoopThread` — one daemon thread running a loop that waits on a stop event, so ``stop``
  interrupts its sleeps and then joins it (bounded). Feed sources and the monitor own one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import ClassVar

from ascep.common.backoff import Backoff
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS


def run_every(
    interval: float,
    step: Callable[[], object],
    stop: threading.Event,
    errors: tuple[type[BaseException], ...],
    on_error: Callable[[float], None],
) -> None:
    """Run ``step`` now, then every ``interval`` s until ``stop`` is set (see module docstring).

    ``on_error(delay)`` is called inside the ``except`` block (so ``logger.exception`` works)
    with the delay before the next try.
    """
    backoff = Backoff(initial=interval, cap=max(30.0, interval))
    delay = 0.0
    while not stop.wait(delay):
        try:
            step()
            backoff.reset()
            delay = interval
        except errors:
            delay = backoff.next_delay()
            on_error(delay)


class LoopThread:
    """A daemon thread running ``target``, which should return soon after :attr:`stopping` is set."""

    def __init__(self, target: Callable[[], None], name: str) -> None:
        self.stopping = threading.Event()
        self._target = target
        self._name = name
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._target, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        """Set :attr:`stopping` and wait up to ``timeout`` seconds for the loop to return."""
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)


class PeriodicLoop:
    """:meth:`step` every ``interval`` seconds (:func:`run_every`) until :meth:`stop`.

    ``errors`` (Redis being unreachable, by default) are logged as a warning naming ``label``,
    in the logger of the subclass's module, and retried with backoff.
    """

    label: ClassVar[str]
    errors: ClassVar[tuple[type[BaseException], ...]] = REDIS_UNAVAILABLE_ERRORS

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()

    def step(self) -> None:
        raise NotImplementedError

    def run(self) -> None:
        run_every(self.interval, self.step, self._stop, self.errors, self._retrying)

    def stop(self) -> None:
        self._stop.set()

    def _retrying(self, delay: float) -> None:
        logging.getLogger(type(self).__module__).warning(
            "%s: Redis unreachable; retrying in %.1fs", self.label, delay
        )
