"""Run a few blocking calls side by side on whatever concurrency model the process uses.

Under eventlet/gevent a thread pool's C-level queue would block the hub, so green pools are used
there; plain threads otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def parallel_map(fn: Callable[[T], R], items: Iterable[T], async_mode: str) -> list[R]:
    """``[fn(item) for item in items]`` with the calls running concurrently, order kept."""
    items = list(items)
    if not items:
        return []
    if async_mode == "eventlet":
        import eventlet

        return list(eventlet.GreenPool(len(items)).imap(fn, items))
    if async_mode == "gevent":
        from gevent.pool import Pool

        return list(Pool(len(items)).imap(fn, items))
    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return list(pool.map(fn, items))
