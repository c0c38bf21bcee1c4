"""Compose proxy steps into one handler.

A step is ``step(exchange, call_next) -> ProxyResponse``: like a WSGI or Starlette middleware it
can answer on its own (a CORS preflight, a 404), raise an ASCEP error, or call ``call_next`` and
decorate what comes back (timing, headers). The terminal handler forwards to the service.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from ascep.gateway.proxy.exchange import Exchange, ProxyResponse

Handler = Callable[[Exchange], ProxyResponse]
Step = Callable[[Exchange, Handler], ProxyResponse]


def build_pipeline(steps: Sequence[Step], terminal: Handler) -> Handler:
    """Chain ``steps`` (outermost first) in front of ``terminal``."""
    handler = terminal
    for step in reversed(steps):
        handler = partial(step, call_next=handler)
    return handler
