"""The limiter's own small pool of Redis connections: a stack and a semaphore, nothing else.

redis-py's pools do more per checkout (readiness polls, observability hooks, process checks):
measured at about a third of a rate-limit check's client-side cost, on the path every limited
request takes. Here a checkout is a semaphore acquire and a list pop. At most ``size`` connections
are open; a check that finds them all busy waits (local queuing behind this gateway's own load,
bounded by ``wait_s``) — a burst of a thousand requests shares a few dozen connections instead
of opening a connection each, which under load is what times out.

The connections are redis-py's (``redis.Connection``: RESP packing, hiredis parsing, timeouts),
built from the URL with the given timeouts; a connection that failed is dropped, not reused.
Under eventlet the semaphore is green (the standard library is monkey-patched first).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis


class LimiterConnections:
    """``with connections.use() as connection: ...`` — a connected ``redis.Connection``."""

    def __init__(self, url: str, *, timeout: float, size: int, wait_s: float) -> None:
        template = redis.ConnectionPool.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            socket_keepalive=True,
            health_check_interval=0,  # a failed check is decided at once and the probe takes over
        )
        self._connection_class = template.connection_class
        self._kwargs: dict[str, Any] = dict(template.connection_kwargs)
        template.disconnect()
        self.size = size
        self.wait_s = wait_s
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[redis.Connection] = []

    @contextmanager
    def use(self) -> Iterator[redis.Connection]:
        if not self._slots.acquire(timeout=self.wait_s):
            raise redis.ConnectionError("every rate-limit connection stayed busy; none free in time")
        connection = self._idle.pop() if self._idle else self._connection_class(**self._kwargs)
        in_step = False
        try:
            connection.connect()  # no-op when connected
            yield connection
            in_step = True
        except redis.ResponseError:
            in_step = True  # Redis answered with an error: the connection is still in step
            raise
        finally:
            if in_step:
                self._idle.append(connection)
            else:  # failed or interrupted mid-exchange: a late reply must never be read as the next one's
                connection.disconnect()
            self._slots.release()

    def open_all(self) -> int:
        """Open every connection ahead of traffic; how many are open."""
        opened: list[redis.Connection] = []
        try:
            while len(opened) < self.size and self._slots.acquire(blocking=False):
                connection = self._idle.pop() if self._idle else self._connection_class(**self._kwargs)
                opened.append(connection)
                connection.connect()
        finally:
            for connection in opened:
                self._idle.append(connection)
                self._slots.release()
        return len(self._idle)

    def ping(self) -> None:
        """One PING on a connection of the pool (the outage probe)."""
        with self.use() as connection:
            connection.send_command("PING")
            connection.read_response()
