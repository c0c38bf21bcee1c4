"""Publish price events on the bus at a steady rate: what every bus-driven benchmark does.

Time is cut into 10 ms slots, each one pipelined round trip carrying the events due by then, so
the rate holds without one round trip per event; the caller builds event ``n`` when it is sent
(so a publish timestamp in it is the real one).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from ascep.common import channels

SLOT_S = 0.01


def publish_paced(bus: Any, rate: int, seconds: float, event: Callable[[int], dict[str, Any]]) -> int:
    """Publish ``event(n)`` on ``price_updates`` at ``rate``/s for ``seconds``; how many were sent."""
    sent = 0
    started = time.perf_counter()
    due = 0.0
    while (elapsed := time.perf_counter() - started) < seconds:
        due += rate * SLOT_S
        pipe = bus.pipeline(transaction=False)
        while sent < int(due):
            pipe.publish(channels.PRICE_UPDATES, json.dumps(event(sent), separators=(",", ":")))
            sent += 1
        pipe.execute()
        pause = (elapsed + SLOT_S) - (time.perf_counter() - started)
        if pause > 0:
            time.sleep(pause)
    return sent
