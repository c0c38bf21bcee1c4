"""Correlation ids: accept a well-formed incoming id, else mint one; expose it to logging.

The id lives in a :class:`contextvars.ContextVar` so every log line of the request's greenlet
(or thread) can carry it without threading it through every call.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"
#: WSGI environ keys of the two accepted incoming headers, in order of preference.
REQUEST_ID_ENVIRON_KEYS = ("HTTP_X_REQUEST_ID", "HTTP_X_CORRELATION_ID")

# Printable, no spaces or separators that could split a header or a log line.
_WELL_FORMED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")

current_request_id: ContextVar[str] = ContextVar("ascep_request_id", default="-")


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_or_generate(candidate: str | None) -> str:
    """Keep a client's id when it is safe to echo and log; otherwise mint a fresh one."""
    if candidate and _WELL_FORMED.match(candidate):
        return candidate
    return new_request_id()


def request_id_from_environ(environ: dict) -> str:
    """The request id for a WSGI request, from ``X-Request-ID`` or ``X-Correlation-ID``."""
    for key in REQUEST_ID_ENVIRON_KEYS:
        value = environ.get(key)
        if value:
            return accept_or_generate(value)
    return new_request_id()
