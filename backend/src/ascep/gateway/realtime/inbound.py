"""Per-connection limits on what a Socket.IO client sends, enforced before a message costs anything.

A client that sent 40 000 subscription messages in 0.6 s used to freeze delivery to everyone for
15 s: python-socketio started a green thread and a Flask request context for every message, and
the connection's reader decoded the whole flood without yielding. This guard sits between
Engine.IO and Socket.IO (it replaces the Engine.IO ``message`` handler python-socketio installed):

* every connection gets a token bucket (``rate`` messages/s, ``burst`` at once). A message with a
  token is handed on unchanged; the first one without is the end of that connection: the client
  gets an ``error`` event (the usual envelope, code ``RATE_LIMITED``), a Socket.IO disconnect and
  the transport is closed. What it had already sent is dropped unread — O(1) per message, no JSON,
  no Redis, no green thread;
* the reader yields to the other green threads after every message, so even a burst that is
  already buffered cannot hold the event loop;
* messages larger than ``max_http_buffer_size`` never get here: Engine.IO (and the websocket layer
  under it) closes such a connection itself — see :func:`engineio_options`.

Why hand-written: a token bucket is a few lines of arithmetic per connection, while the rate-limit
libraries (``limits``, Flask-Limiter) key shared storage by strings and expire entries in the
background — far more work per message than the check is allowed to cost here.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import socketio

from ascep.common import channels
from ascep.common.errors import RateLimited
from ascep.common.request_id import new_request_id

logger = logging.getLogger(__name__)

NAMESPACE = "/"
REASON_RATE = "rate_limited"


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up; :meth:`take` spends one."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


def engineio_options(max_message_bytes: int) -> dict[str, Any]:
    """Options for the Socket.IO server: the largest message a client may send.

    ``max_http_buffer_size`` bounds a polling POST body and a websocket message (under eventlet it is
    also the websocket frame limit: a larger frame closes the connection with code 1009). It is
    advertised to clients as ``maxPayload`` in the handshake.
    """
    return {"max_http_buffer_size": max_message_bytes}


class InboundGuard:
    """Rate limit every connection's messages; expel a client that exceeds it."""

    def __init__(
        self,
        server: socketio.Server,
        *,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.server = server
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.expelled: Counter[str] = Counter()
        self.dropped = 0
        self._buckets: dict[str, TokenBucket] = {}
        self._dispatch: Callable[[str, Any], Any] = lambda eio_sid, data: None
        self._on_connect: Callable[[str, dict[str, Any]], Any] = lambda eio_sid, environ: None
        self._on_disconnect: Callable[..., Any] = lambda eio_sid, *reason: None

    def install(self) -> None:
        """Wrap the Engine.IO handlers python-socketio registered (call once, after it did)."""
        eio = self.server.eio
        self._dispatch = eio.handlers["message"]
        self._on_connect = eio.handlers["connect"]
        self._on_disconnect = eio.handlers["disconnect"]
        eio.on("connect", self.on_connect)
        eio.on("message", self.on_message)
        eio.on("disconnect", self.on_disconnect)

    def on_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        accepted = self._on_connect(eio_sid, environ)
        if accepted is not False:
            self._buckets[eio_sid] = TokenBucket(self.rate, self.burst, self.clock())
        return accepted

    def on_disconnect(self, eio_sid: str, *reason: Any) -> Any:
        self._buckets.pop(eio_sid, None)
        return self._on_disconnect(eio_sid, *reason)

    def on_message(self, eio_sid: str, data: Any) -> None:
        bucket = self._buckets.get(eio_sid)
        if bucket is None:
            self.dropped += 1  # the rest of an expelled client's flood, read before the close
        elif bucket.take(self.clock()):
            self._dispatch(eio_sid, data)
        else:
            self._expel(eio_sid)
        self.server.sleep(0)  # never let one connection's buffered messages hold the event loop

    def _expel(self, eio_sid: str) -> None:
        del self._buckets[eio_sid]
        self.expelled[REASON_RATE] += 1
        self.dropped += 1
        sid = self.server.manager.sid_from_eio_sid(eio_sid, NAMESPACE)
        logger.warning(
            "Socket.IO client %s sent more than %g messages/s (burst %d): disconnected",
            sid or eio_sid,
            self.rate,
            self.burst,
        )
        error = RateLimited(
            f"more than {self.rate:g} messages per second (burst {self.burst}); disconnected",
            {"reason": REASON_RATE, "rate": self.rate, "burst": self.burst},
        )
        if sid is not None:
            envelope = error.envelope(new_request_id())
            self.server.emit(channels.EVENT_ERROR, envelope, to=sid, namespace=NAMESPACE)
            self.server.disconnect(sid, namespace=NAMESPACE)
        # Close the transport without waiting (Engine.IO's own disconnect() waits for the queue to
        # drain, which a polling client that never polls makes forever); the writer still sends
        # what is queued — the error, then the disconnect — before it closes the websocket.
        socket = self.server.eio.sockets.get(eio_sid)
        if socket is not None:
            socket.close(wait=False, abort=False, reason=self.server.eio.reason.SERVER_DISCONNECT)

    def status(self) -> dict[str, Any]:
        return {
            "rate_per_second": self.rate,
            "burst": self.burst,
            "clients_disconnected": dict(self.expelled),
            "messages_dropped": self.dropped,
        }
