"""eventlet's WSGI server, hardened: time limits, room for new clients, strict framing, envelopes.

eventlet's defaults let a few hundred slow or idle clients take a server down: no socket
timeout, a pool that stops accepting when 1 024 connections sit idle, a traceback as the body of
a 500, and empty or HTML bodies for its own 400/414/505 answers. :class:`GuardedProtocol` hooks
into ``eventlet.wsgi.HttpProtocol`` where it reads a request, so that

- a connection waits at most ``HTTP_IDLE_TIMEOUT`` for its next request,
- a request's line and headers arrive within ``HTTP_HEADER_TIMEOUT`` of its first byte (a
  per-read timeout alone never stops a slowloris client that sends a byte every few seconds),
- its body never pauses longer than ``HTTP_BODY_TIMEOUT`` (the socket timeout; Engine.IO
  replaces it on a WebSocket with its ping interval + ping timeout),
- every answer the server makes itself is the JSON error envelope with a request id,
- ambiguous framing headers are refused before the app runs (:mod:`ascep.common.framing`).

:class:`ConnectionPool` closes the longest-idle keep-alive connection when every slot is taken,
as nginx does, so idle clients can never lock out a new one.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any, ClassVar

import eventlet
import eventlet.wsgi
from eventlet import greenio

from ascep.common.errors import (
    AscepError,
    BadRequest,
    HeadersTooLarge,
    RequestTimeout,
    UriTooLong,
    envelope_bytes,
    error_for_status,
)
from ascep.common.framing import framing_problem
from ascep.common.request_id import REQUEST_ID_HEADER, accept_or_generate
from ascep.common.wsgi_guard import FRAMING_CHECKED, GuardedInput

logger = logging.getLogger(__name__)

_DRAIN_BYTES = 64 * 1024
_DRAIN_SECONDS = 1.0
_POLL_S = 0.005
_EVICT_WAIT_S = 0.2


class _HeadTimeout(Exception):
    """The request line and headers did not arrive within ``HTTP_HEADER_TIMEOUT``."""


class IdleConnections:
    """Sockets waiting for their next request, longest-waiting first."""

    def __init__(self) -> None:
        self._waiting: dict[int, socket.socket] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    @contextmanager
    def waiting(self, sock: socket.socket) -> Iterator[None]:
        key = id(sock)
        self._waiting[key] = sock
        try:
            yield
        finally:
            self._waiting.pop(key, None)

    def close_oldest(self) -> bool:
        """Hang up on the longest-idle connection (its reader sees end-of-file and exits)."""
        for key in self._waiting:
            sock = self._waiting.pop(key)
            greenio.shutdown_safe(sock)
            return True
        return False


class ConnectionPool(eventlet.GreenPool):
    """The server's connection slots: when all are taken, an idle connection makes room."""

    def __init__(self, size: int, idle: IdleConnections) -> None:
        super().__init__(size)
        self.idle = idle

    def spawn(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        # Poll rather than block in the semaphore: connections accepted in the same burst only
        # become evictable once their greenthreads have run and started waiting.
        while self.free() <= 0:
            if self.idle.close_oldest():
                logger.debug("connection limit %d reached: closed the longest-idle connection", self.size)
                with eventlet.Timeout(_EVICT_WAIT_S, False):
                    while self.free() <= 0:  # the evicted reader sees end-of-file and exits
                        eventlet.sleep(_POLL_S)
            else:
                eventlet.sleep(_POLL_S)
        return super().spawn(function, *args, **kwargs)


class GuardedProtocol(eventlet.wsgi.HttpProtocol):
    """``HttpProtocol`` with time limits, strict framing and envelope-shaped server errors.

    Configured per server by :func:`protocol_class` (the server builds one per connection).
    """

    idle_timeout: ClassVar[float] = 30.0
    header_timeout: ClassVar[float] = 10.0
    idle: ClassVar[IdleConnections] = IdleConnections()
    _head_deadline: eventlet.Timeout | None = None

    # --- reading a request -------------------------------------------------------------------

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except _HeadTimeout:
            self._reject(RequestTimeout("the request headers arrived too slowly", {"phase": "headers"}))
        finally:
            self._cancel_head_deadline()

    def _read_request_line(self) -> str:
        if self.rfile.closed or not self._wait_for_request():
            self.close_connection = 1
            return ""
        self._head_deadline = eventlet.Timeout(self.header_timeout, _HeadTimeout())
        line: Any = super()._read_request_line()
        if len(line) >= self.server.url_length_limit:
            limit = self.server.url_length_limit
            self._reject(UriTooLong("the request line is too long", {"limit_bytes": limit}))
            return ""
        return line

    def _wait_for_request(self) -> bool:
        """Wait (at most the idle timeout, evictable) for the first byte of the next request."""
        with self.idle.waiting(self.connection):
            try:
                self.connection.settimeout(self.idle_timeout)
                return bool(self.rfile.peek(1))
            except OSError:  # idle timeout, reset, or evicted to make room
                return False

    def parse_request(self) -> bool:
        try:
            parsed = super().parse_request()
        except (eventlet.wsgi.HeaderLineTooLong, eventlet.wsgi.HeadersTooLarge):
            self._reject(HeadersTooLarge("the request headers are too large"))
            return False
        finally:
            self._cancel_head_deadline()
        if not parsed:
            return False
        if self.headers.defects:  # a line that is no header ("Content-Length : 2") ended the parse
            self._reject(BadRequest("malformed header line"))
            return False
        problem = framing_problem(self.headers.items())
        if problem is not None:
            self._reject(problem)
            return False
        return True

    def get_environ(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().get_environ()
        environ[FRAMING_CHECKED] = True
        environ["wsgi.input"] = GuardedInput(environ["wsgi.input"], on_broken=self._close_after_response)
        return environ

    def _close_after_response(self) -> None:
        self.close_connection = 1

    def _cancel_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    # --- answers the server makes itself ---------------------------------------------------------

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """``BaseHTTPRequestHandler``'s error page (400 bad syntax, 431, 505...) as the envelope."""
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        self._reject(error_for_status(int(code), message or phrase))

    def _reject(self, error: AscepError) -> None:
        """Answer ``error`` as the envelope and close; the client's unread bytes are drained first
        (briefly) so the kernel does not reset the connection before the answer is read."""
        self._cancel_head_deadline()
        headers = getattr(self, "headers", None)
        request_id = accept_or_generate(headers.get(REQUEST_ID_HEADER) if headers is not None else None)
        body = envelope_bytes(error, request_id)
        head = (
            f"HTTP/1.1 {error.status_code} {HTTPStatus(error.status_code).phrase}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"{REQUEST_ID_HEADER}: {request_id}\r\nConnection: close\r\n\r\n"
        ).encode("latin-1")
        self.close_connection = 1
        logger.debug("rejected a request from %s: %d %s", self.client_address, error.status_code, error)
        try:
            self.wfile.write(head + body)
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self._drain()
        except OSError:
            pass

    def _drain(self) -> None:
        self.connection.settimeout(_DRAIN_SECONDS)
        left = _DRAIN_BYTES
        with eventlet.Timeout(_DRAIN_SECONDS, False):
            while left > 0:
                chunk = self.connection.recv(min(left, 16384))
                if not chunk:
                    return
                left -= len(chunk)


def protocol_class(
    idle_timeout: float, header_timeout: float, idle: IdleConnections
) -> type[GuardedProtocol]:
    """A :class:`GuardedProtocol` bound to one server's limits."""
    return type(
        "ServerProtocol",
        (GuardedProtocol,),
        {"idle_timeout": idle_timeout, "header_timeout": header_timeout, "idle": idle},
    )


def serve(
    app: Any,
    sock: Any,
    *,
    max_connections: int,
    idle_timeout: float,
    header_timeout: float,
    body_timeout: float,
) -> None:
    """Run eventlet's WSGI server on ``sock`` with these limits until the process stops."""
    idle = IdleConnections()
    eventlet.wsgi.server(
        sock,
        app,
        log_output=False,
        debug=False,  # never a traceback in a response body
        keepalive=idle_timeout,
        socket_timeout=body_timeout,
        protocol=protocol_class(idle_timeout, header_timeout, idle),
        custom_pool=ConnectionPool(max_connections, idle),
    )
