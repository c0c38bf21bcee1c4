"""The one main loop of every service entry point (``python -m ascep.<service>``).

Every ``__main__.py`` is the same few lines: :func:`~ascep.common.asyncmode.prepare_async_mode`
first, then ``run_service(create_app, ASYNC_MODE)``. That builds the app, configures logging,
refuses a taken port (exit 2), records the process's start in Redis (:mod:`ascep.common.starts`,
so the health monitor counts a supervised restart even when it was quicker than a check), starts
the service's runtime (:mod:`ascep.common.lifecycle`) and serves the app on a thread (green under
eventlet/gevent).

On SIGTERM/SIGINT it stops the runtime — loops ended, buffers written — and exits 0; if the server
died by itself it stops the runtime too and exits 1, so supervisord restarts it. The signal
handler only sets a flag: it may interrupt any green thread, so it must neither raise (the
exception could land in a worker) nor take a lock.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import NoReturn

from flask import Flask

from ascep.common.app_factory import settings_of
from ascep.common.config import CommonSettings
from ascep.common.discovery import announce_instance
from ascep.common.http_server import HttpLimits, PortInUseError, ensure_port_free, serve_wsgi
from ascep.common.lifecycle import ServiceRuntime, runtime_of
from ascep.common.logging_setup import configure_logging
from ascep.common.ops import get_ops
from ascep.common.starts import announce_start

logger = logging.getLogger(__name__)

_POLL_S = 0.2
#: Exit status when the port is taken: nothing was started, a restart would fail the same way.
EXIT_PORT_IN_USE = 2


class _StopRequest:
    def __init__(self) -> None:
        self.signal: int | None = None

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        self.signal = signum


def run_service(create_app: Callable[[], Flask], async_mode: str, *, discoverable: bool = True) -> NoReturn:
    """Build, start, serve and — on SIGTERM/SIGINT — stop one service; never returns.

    A ``discoverable`` service announces itself in Redis (:mod:`ascep.common.discovery`) while it
    runs, so gateways route to it; the gateway itself is no upstream and passes False.
    """
    app = create_app()
    settings = settings_of(app, CommonSettings)
    service = get_ops(app).service
    configure_logging(service, settings.log_level)
    try:
        ensure_port_free(settings.host, settings.port)
    except PortInUseError as exc:
        logger.error("%s", exc)
        sys.exit(EXIT_PORT_IN_USE)
    if async_mode == "threading":
        logger.warning("ASYNC_MODE=threading serves with Werkzeug's development server: not for production")
    run_until_stopped(app, runtime_of(app), settings, async_mode, discoverable=discoverable)


def run_until_stopped(
    app: Flask,
    runtime: ServiceRuntime,
    settings: CommonSettings,
    async_mode: str,
    *,
    discoverable: bool = True,
) -> NoReturn:
    stop = _StopRequest()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    announce_start(settings.redis, get_ops(app).service)  # restarts are counted
    runtime.start()
    announcer = announce_instance(get_ops(app).service, settings) if discoverable else None
    server = threading.Thread(
        target=serve_wsgi,
        args=(app, settings.host, settings.port, async_mode, HttpLimits.from_settings(settings)),
        name="http-server",
        daemon=True,
    )
    server.start()
    while stop.signal is None and server.is_alive():
        time.sleep(_POLL_S)
    if stop.signal is None:
        logger.error("HTTP server stopped unexpectedly")
    else:
        logger.info("received signal %d, shutting down", stop.signal)
    if announcer is not None:
        announcer.stop()  # first: gateways stop sending new calls while the runtime drains
    try:
        runtime.stop()
    except Exception:
        logger.exception("shutdown failed")
        sys.exit(1)
    logger.info("%s stopped", get_ops(app).service)
    sys.exit(0 if stop.signal is not None else 1)
