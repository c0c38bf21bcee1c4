"""Checks that arrive together go to Redis together: one write, one read, for a whole batch.

Under concurrency each request paying its own round trip (a write, a wait registered with the
event loop, a read) costs the gateway about 3x the CPU of the same checks sent as one pipeline
(measured under eventlet at 32 concurrent checks: ~100 µs vs ~35 µs each). Pipelining changes
nothing about exactness: every script still runs atomically, one after the other.

No wait when alone: a request that finds nothing on the wire makes its own round trip at once.
Requests arriving while something is on the wire queue up, and one sender (a green thread
started with the gateway) sends everything queued as one pipeline per turn and hands each reply
to its owner — under load, batches of about the concurrency. A failure (refused, reset, timed
out) is the failure of every request in that batch; the sender goes on with the next. While
Redis is known to be down, a check goes no further (:class:`RedisDown`) and the caller decides.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Final

import redis

from ascep.gateway.ratelimit.connections import LimiterConnections

#: Most commands in one pipeline (a burst is sent as several, one after the other).
MAX_BATCH: Final = 256


class RedisDown(Exception):
    """Redis was already known to be down when the batch was about to be sent (nothing was sent)."""


class _Entry:
    __slots__ = ("answered", "command", "error", "reply", "woken")

    def __init__(self, command: Sequence[Any]) -> None:
        self.command = command
        self.woken = threading.Event()  # set once answered
        self.answered = False
        self.reply: Any = None
        self.error: BaseException | None = None

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.reply


class Pipeline:
    """``call(("EVALSHA", sha, 1, key, *args))`` → the reply, batched with its neighbours.

    ``is_up`` says whether Redis may be asked at all (the limiter's outage state).
    """

    def __init__(
        self, connections: LimiterConnections, is_up: Callable[[], bool], max_batch: int = MAX_BATCH
    ) -> None:
        self.connections = connections
        self.is_up = is_up
        self.max_batch = max_batch
        self._lock = threading.Lock()  # held for bookkeeping only, never across I/O
        self._queue: deque[_Entry] = deque()
        self._in_flight = 0  # direct calls and batches on the wire
        self._wake = threading.Event()
        self._running = False
        self.batches = 0  # pipelines of queued checks sent (``/status``)
        self.batched = 0  # checks that went in them

    def start(self, spawn: Callable[..., Any]) -> None:
        """Start the sender of queued checks (without it every call is a direct round trip)."""
        self._running = True
        spawn(self._send_queued)

    def stop(self) -> None:
        self._running = False
        self._wake.set()

    def call(self, command: Sequence[Any]) -> Any:
        with self._lock:
            direct = not self._running or self._in_flight == 0
            if direct:
                self._in_flight += 1
            else:
                entry = _Entry(command)
                self._queue.append(entry)
        if direct:  # nothing on the wire: no reason to wait for company
            try:
                return self._direct(command)
            finally:
                with self._lock:
                    self._in_flight -= 1
                    if self._queue:
                        self._wake.set()
        self._wake.set()
        if not entry.woken.wait(self.connections.wait_s):  # a safety net: the sender always answers
            raise redis.TimeoutError("a queued rate-limit check was not sent in time")
        return entry.result()

    def _direct(self, command: Sequence[Any]) -> Any:
        if not self.is_up():
            raise RedisDown()
        with self.connections.use() as connection:
            connection.send_command(*command)
            return connection.read_response()

    def _send_queued(self) -> None:
        """The sender's loop: every queued check goes out in one pipeline per turn."""
        while self._running:
            self._wake.wait()
            self._wake.clear()
            while self._queue:
                with self._lock:
                    batch = [self._queue.popleft() for _ in range(min(len(self._queue), self.max_batch))]
                    self._in_flight += 1
                try:
                    self._send(batch)
                finally:
                    with self._lock:
                        self._in_flight -= 1
        for entry in self._drain():  # stopping: nobody may be left waiting
            entry.error = RedisDown()
            entry.woken.set()

    def _drain(self) -> list[_Entry]:
        with self._lock:
            left = list(self._queue)
            self._queue.clear()
        return left

    def _send(self, batch: list[_Entry]) -> None:
        try:
            if not self.is_up():
                raise RedisDown()
            self.batches += 1
            self.batched += len(batch)
            with self.connections.use() as connection:
                connection.send_packed_command(connection.pack_commands([e.command for e in batch]))
                for entry in batch:
                    try:
                        entry.reply = connection.read_response()
                    except redis.ResponseError as exc:  # this command's error; the stream is in step
                        entry.error = exc
                    entry.answered = True
        except Exception as exc:  # refused, reset, timed out, known down: everyone's failure
            for entry in batch:
                if not entry.answered:
                    entry.error = exc
        finally:
            for entry in batch:
                entry.answered = True
                entry.woken.set()
