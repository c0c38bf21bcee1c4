"""The main loop of every plain-WSGI service entry point (everything but the gateway).

The process's start is recorded in Redis first (:mod:`ascep.common.starts`), so the health
monitor counts a supervised restart even when it was quicker than a check.

Serve the app on a thread (green under eventlet/gevent), wait for SIGTERM/SIGINT, run the
service's ``on_stop`` and exit 0 — or exit 1 if the server died by itself, so supervisord
restarts it. The signal handler only sets a flag: it may interrupt any green thread, so it must
neither raise (the exception could land in a worker) nor take a lock.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, NoReturn

from ascep.common.discovery import announce_instance
from ascep.common.ops import get_ops
from ascep.common.serve import HttpLimits, serve_wsgi
from ascep.common.starts import announce_start

logger = logging.getLogger(__name__)

_POLL_S = 0.2


class _StopRequest:
    def __init__(self) -> None:
        self.signal: int | None = None

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        self.signal = signum


def run_until_stopped(
    app: Any,
    async_mode: str,
    *,
    on_start: Callable[[], None] | None = None,
    on_stop: Callable[[], None] | None = None,
) -> NoReturn:
    stop = _StopRequest()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    announce_start(app.config["REDIS_URL"], get_ops(app).service)  # restarts are counted
    announcer = announce_instance(app)  # gateways discover this instance while it beats
    if on_start is not None:
        on_start()
    server = threading.Thread(
        target=serve_wsgi,
        args=(app, app.config["HOST"], app.config["PORT"], async_mode, HttpLimits.from_config(app.config)),
        name="http-server",
        daemon=True,
    )
    server.start()
    while stop.signal is None and server.is_alive():
        time.sleep(_POLL_S)
    if stop.signal is None:
        logger.error("HTTP server stopped unexpectedly")
    logger.info("shutting down")
    announcer.stop()  # first: gateways stop sending new calls while on_stop drains
    if on_stop is not None:
        on_stop()
    sys.exit(0 if stop.signal is not None else 1)
