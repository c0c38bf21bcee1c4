"""The error envelope as a raw WSGI answer, for checks that run before any framework sees a request.

The ``Host`` allow-list and the Socket.IO origin check answer from WSGI middleware (Flask's error
handlers are not in play yet), but a client must still get the one envelope and its request id.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from ascep.common.errors import AscepError, envelope_bytes
from ascep.common.request_id import REQUEST_ID_HEADER, request_id_from_environ


def wsgi_error(error: AscepError, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """Answer ``error`` with its status and the envelope; the request id is the client's or new."""
    request_id = request_id_from_environ(environ)
    body = envelope_bytes(error, request_id)
    start_response(
        f"{error.status_code} {HTTPStatus(error.status_code).phrase}",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            (REQUEST_ID_HEADER, request_id),
            *error.headers,
        ],
    )
    return [body]
