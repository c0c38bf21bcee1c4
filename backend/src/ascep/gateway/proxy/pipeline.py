"""Compose proxy steps into one handler.

A step is ``step(exchange, call_next) -> ProxyResponse``: like a WSGI or Starlette middleware it
can answer on its own (a CORS preflight, a 404), raise an ASCEP error, or call ``call_next`` and
decorate what comes back (timing, headers). The terminal handler forwards to the service.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Protocol

from ascep.gateway.proxy.exchange import Exchange, ProxyResponse

Handler = Callable[[Exchange], ProxyResponse]


class Step(Protocol):
    """A proxy step; ``call_next`` is passed by keyword (:func:`build_pipeline` binds it with
    ``functools.partial``), so a step must name that parameter ``call_next``."""

    def __call__(self, exchange: Exchange, /, call_next: Handler) -> ProxyResponse: ...


def build_pipeline(steps: Sequence[Step], terminal: Handler) -> Handler:
    """Chain ``steps`` (outermost first) in front of ``terminal``."""
    handler = terminal
    for step in reversed(steps):
        handler = partial(step, call_next=handler)
    return handler
