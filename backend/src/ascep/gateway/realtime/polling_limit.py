"""Refuse oversized Engine.IO long-polling POSTs before python-engineio reads them.

python-engineio checks a polling POST against ``max_http_buffer_size`` only after reading it, and
when no GET of that session is waiting it never answers the POST at all: the request (and its
green thread) hangs for good, so a client could pile them up. Checking ``Content-Length`` first
answers at once with the envelope, reads nothing, and lets Engine.IO see only bodies it accepts.
A POST without ``Content-Length`` (chunked) cannot be bounded before reading, so it is refused
with 411: browsers and the Socket.IO clients always send the length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ascep.common.errors import LengthRequired, PayloadTooLarge
from ascep.common.wsgi_errors import wsgi_error

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class PollingBodyLimit:
    """WSGI middleware: ``POST /socket.io/...`` bodies must declare at most ``max_bytes``."""

    def __init__(self, app: WSGIApp, max_bytes: int, path: str = "/socket.io") -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = path.rstrip("/") + "/"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST" or not (environ.get("PATH_INFO", "") + "/").startswith(
            self.prefix
        ):
            return self.app(environ, start_response)
        declared = environ.get("CONTENT_LENGTH") or ""
        if not declared.isdigit():  # the server's framing checks already refused malformed values
            error: LengthRequired | PayloadTooLarge = LengthRequired(
                "a Socket.IO polling request must declare its Content-Length", {}
            )
            return wsgi_error(error, environ, start_response)
        if int(declared) > self.max_bytes:
            error = PayloadTooLarge(
                f"a Socket.IO polling request may carry at most {self.max_bytes} bytes",
                {"limit_bytes": self.max_bytes},
            )
            return wsgi_error(error, environ, start_response)
        return self.app(environ, start_response)
