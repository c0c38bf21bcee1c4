"""The outermost WSGI layer of every ASCEP process, whichever server runs it.

It guarantees three things the apps below can then take for granted:

- the request's framing headers are unambiguous (:mod:`ascep.common.framing`; eventlet's
  protocol checks them before the app runs, the guard repeats it for gevent and Werkzeug);
- reading the body either works or raises an :class:`~ascep.common.errors.AscepError` — a
  client that stops sending is a 408, a broken chunked encoding a 400 — never a bare socket or
  parser error that an app would turn into a 500;
- nothing escapes as a server-made 500 with a traceback: an exception that leaves the app before
  the response started becomes the 500 envelope.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any

from ascep.common.errors import AscepError, BadRequest, InternalError, RequestTimeout, envelope_bytes
from ascep.common.framing import environ_framing_headers, framing_problem
from ascep.common.request_id import REQUEST_ID_HEADER, request_id_from_environ

logger = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Set in the environ by a server that already applied :func:`framing_problem`.
FRAMING_CHECKED = "ascep.framing_checked"


class GuardedInput:
    """``wsgi.input`` whose failures are client errors the apps already know how to render.

    ``on_broken`` runs once when the body cannot be read to the end, so the server closes the
    connection instead of trying to find the next request in the rest of a broken stream.
    """

    def __init__(self, stream: Any, on_broken: Callable[[], None] | None = None) -> None:
        self._stream = stream
        self._on_broken = on_broken

    def read(self, size: int | None = -1) -> bytes:
        return self._guarded(self._stream.read, size)

    def readline(self, size: int | None = -1) -> bytes:
        return self._guarded(self._stream.readline, size)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        return self._guarded(self._stream.readlines, hint)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def __getattr__(self, name: str) -> Any:
        # Server extras (eventlet's get_socket, content_length, ...) stay reachable.
        return getattr(self._stream, name)

    def _guarded(self, call: Callable[[Any], Any], size: int | None) -> Any:
        try:
            return call(None if size is not None and size < 0 else size)
        except TimeoutError as exc:
            self._broken()
            raise RequestTimeout("the request body arrived too slowly", {"phase": "body"}) from exc
        except ValueError as exc:  # eventlet's ChunkReadError, gevent's bad chunk size, ...
            self._broken()
            raise BadRequest("malformed chunked request body") from exc
        except OSError as exc:  # reset by the client, or a read after an earlier timeout
            self._broken()
            raise BadRequest("the request body could not be read to the end") from exc

    def _broken(self) -> None:
        if self._on_broken is not None:
            self._on_broken()
            self._on_broken = None


class WsgiGuard:
    """Wrap an app so framing, body reads and escaped exceptions end in the envelope."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get(FRAMING_CHECKED):
            problem = framing_problem(environ_framing_headers(environ))
            if problem is not None:
                return error_app(problem)(environ, start_response)
        body = environ.get("wsgi.input")
        if body is not None and not isinstance(body, GuardedInput):
            environ["wsgi.input"] = GuardedInput(body)
        try:
            return self.app(environ, start_response)
        except Exception:
            method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
            logger.exception("unhandled error on %s %s", method, path)
            return error_app(InternalError("internal error"))(environ, start_response, sys.exc_info())


def error_app(error: AscepError) -> Callable[..., Iterable[bytes]]:
    """A tiny WSGI app that answers ``error`` as the envelope (``Connection: close`` for 4xx framing)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any], exc_info: Any = None) -> list[bytes]:
        request_id = request_id_from_environ(environ)
        body = envelope_bytes(error, request_id)
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            (REQUEST_ID_HEADER, request_id),
        ]
        start_response(f"{error.status_code} {HTTPStatus(error.status_code).phrase}", headers, exc_info)
        return [body]

    return app
