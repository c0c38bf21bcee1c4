"""The ``set_deadline`` proxy step: when the whole call, retries included, must be over.

The deadline is the registration's (``policy.endpoint_timeouts`` by longest prefix, else
``policy.timeout_s``, else ``PROXY_REQUEST_TIMEOUT``), shortened — never lengthened — by the
client's ``X-Request-Timeout`` (seconds, decimal). It is an absolute ``time.perf_counter()``
value on the exchange: the forwarder bounds each attempt's connect and read by the time left and
tells the service that time in ``X-Request-Deadline-Ms``; the retry step starts no retry with
less than ``RETRY_MIN_REMAINING_MS`` left.
"""

from __future__ import annotations

import re

from ascep.common.errors import BadRequest
from ascep.gateway.proxy.exchange import Exchange, ProxyResponse
from ascep.gateway.proxy.headers import REQUEST_TIMEOUT_HEADER
from ascep.gateway.proxy.pipeline import Handler, Step

#: Plain decimal seconds: ``2``, ``0.25``, ``.5``; no sign, exponent, ``inf`` or ``nan``.
_SECONDS = re.compile(r"^(?:[0-9]{1,7}(?:\.[0-9]{0,6})?|\.[0-9]{1,6})$")


def parse_request_timeout(raw: str) -> float:
    """The client's ``X-Request-Timeout`` in seconds; 400 ``BAD_REQUEST`` unless a positive decimal."""
    value = raw.strip()
    seconds = float(value) if _SECONDS.match(value) else 0.0
    if seconds <= 0:
        raise BadRequest(
            f"{REQUEST_TIMEOUT_HEADER} must be a positive number of seconds, like 2.5",
            {"header": REQUEST_TIMEOUT_HEADER, "value": raw[:64]},
        )
    return seconds


def set_deadline(default_s: float) -> Step:
    """Set ``exchange.deadline``; ``default_s`` is ``PROXY_REQUEST_TIMEOUT``."""

    def step(exchange: Exchange, call_next: Handler) -> ProxyResponse:
        route = exchange.route
        assert route is not None, "set_deadline must run after resolve_route"
        seconds = route.service.policy.deadline_s(exchange.path, default_s)
        raw = exchange.header(REQUEST_TIMEOUT_HEADER)
        if raw is not None:
            seconds = min(seconds, parse_request_timeout(raw))
        exchange.deadline = exchange.started + seconds
        return call_next(exchange)

    return step
