"""Run a WSGI app on the configured async mode, refusing a port that is already taken.

eventlet's ``listen`` sets ``SO_REUSEPORT``: a leftover server on the same port would silently
take a share of the connections. We bind once without it first, so a clash fails loudly.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


class PortInUseError(RuntimeError):
    """Another process already listens on the requested address."""


def ensure_port_free(host: str, port: int) -> None:
    """Raise :class:`PortInUseError` when ``host:port`` cannot be bound exclusively."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(f"{host}:{port} is already in use by another process") from exc
        raise
    finally:
        probe.close()


def serve_wsgi(app: Callable[..., Any], host: str, port: int, async_mode: str) -> None:
    """Serve ``app`` until the process is stopped (services without Socket.IO)."""
    ensure_port_free(host, port)
    logger.info("listening on http://%s:%d (%s)", host, port, async_mode)
    if async_mode == "eventlet":
        import eventlet
        import eventlet.wsgi

        sock = eventlet.listen((host, port), reuse_port=False, backlog=1024)
        eventlet.wsgi.server(sock, app, log_output=False, max_size=4096, keepalive=True)
    elif async_mode == "gevent":
        from gevent.pywsgi import WSGIServer

        WSGIServer((host, port), app, log=None).serve_forever()
    else:
        from werkzeug.serving import make_server

        make_server(host, port, app, threaded=True).serve_forever()
