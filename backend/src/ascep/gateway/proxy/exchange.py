"""The data a proxied call carries through the pipeline, and the answer it comes back with."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from ascep.gateway.auth.principal import Principal
from ascep.gateway.routing import Route
from ascep.gateway.upstreams.model import Upstream

logger = logging.getLogger(__name__)

Headers = list[tuple[str, str]]


@dataclass(slots=True)
class Exchange:
    """One client request on its way to a service.

    ``path`` is the decoded path below ``/api`` (what routing sees); ``raw_path`` keeps the
    client's exact encoding, which is what the service receives.
    """

    request_id: str
    method: str
    path: str
    raw_path: str
    query: str
    headers: Headers
    body: IO[bytes] | None
    content_length: int | None
    chunked: bool
    client_addr: str
    scheme: str
    host: str
    started: float
    route: Route | None = None
    upstream: Upstream | None = None  # chosen by select_upstream, after resolve_route
    deadline: float | None = None  # perf_counter() by which the call must be over (set_deadline)
    tried: frozenset[str] = frozenset()  # instance ids earlier attempts went to (retry step)
    attempts: int = 0  # attempts made so far (retry step); reported in X-Upstream-Attempts
    versions: tuple[str, ...] = ()  # set by split_traffic: instance versions to prefer, in order
    principal: Principal | None = None  # set by authenticate: who is calling, with which scopes

    def header(self, name: str) -> str | None:
        """First value of a request header (case-insensitive)."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None


#: Called once when a response has been fully delivered (or abandoned): ``(status, failed)``.
CloseCallback = Callable[[int, bool], None]


@dataclass(slots=True)
class ProxyResponse:
    """An answer on its way back to the client; the body is streamed, never re-parsed."""

    status: int
    reason: str
    headers: Headers
    body: Iterable[bytes]
    close_callbacks: list[CloseCallback] = field(default_factory=list)

    def on_close(self, callback: CloseCallback) -> None:
        self.close_callbacks.append(callback)

    def status_line(self) -> str:
        return f"{self.status} {self.reason or 'Unknown'}"


class ResponseBody:
    """WSGI iterable around a response body that runs close callbacks exactly once.

    The WSGI server calls :meth:`close` after the last byte or when the client goes away, which
    is the moment a proxied call is over: latency is recorded there.
    """

    __slots__ = ("_body", "_closed", "_failed", "_response")

    def __init__(self, response: ProxyResponse) -> None:
        self._response = response
        self._body = response.body
        self._closed = False
        self._failed = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._body
        except Exception:
            self._failed = True
            raise

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        closer = getattr(self._body, "close", None)
        if closer is not None:
            try:
                closer()
            except Exception:
                logger.exception("closing a response body failed")
                self._failed = True
        failed = self._failed or bool(getattr(self._body, "failed", False))
        for callback in self._response.close_callbacks:
            try:
                callback(self._response.status, failed)
            except Exception:
                logger.exception("response close callback failed")
