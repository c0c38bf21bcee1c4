"""Deadline polling: the only way tests here wait for something to happen."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The condition did not hold before the deadline."""


def wait_for(
    probe: Callable[[], T],
    *,
    timeout: float = 10.0,
    interval: float = 0.02,
    message: str = "condition",
) -> T:
    """Call ``probe`` until it returns something truthy and return that; fail at the deadline.

    Exceptions raised by ``probe`` count as "not yet" (the last one is reported on timeout), so a
    probe can simply do an HTTP call against a server that is still starting.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    last_value: object = None
    while True:
        try:
            last_value = probe()
            if last_value:
                return last_value
        except Exception as exc:
            last_error = exc
        if time.monotonic() >= deadline:
            detail = f"; last error: {last_error!r}" if last_error else f"; last value: {last_value!r}"
            raise WaitTimeout(f"{message} not reached within {timeout}s{detail}")
        time.sleep(interval)
