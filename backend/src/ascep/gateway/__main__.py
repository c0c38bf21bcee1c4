"""Run the gateway: ``python -m ascep.gateway`` (port from ``PORT``, default 5000)."""

from ascep.common.asyncmode import prepare_async_mode

ASYNC_MODE = prepare_async_mode()  # first: patch the stdlib before any socket user is imported

import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

from ascep.common.logging_setup import configure_logging  # noqa: E402
from ascep.common.ops import get_ops  # noqa: E402
from ascep.common.serve import HttpLimits, PortInUseError, ensure_port_free, serve_wsgi  # noqa: E402
from ascep.common.starts import announce_start  # noqa: E402
from ascep.gateway import create_app  # noqa: E402

logger = logging.getLogger("ascep.gateway")


def main() -> None:
    app = create_app()
    configure_logging("gateway", app.config["LOG_LEVEL"])
    gateway = app.extensions["ascep.gateway"]
    host, port = app.config["HOST"], app.config["PORT"]
    try:
        ensure_port_free(host, port)
    except PortInUseError as exc:
        logger.error("%s", exc)
        sys.exit(2)

    def finish() -> None:
        gateway.shutdown()
        logging.shutdown()
        os._exit(0)  # the WSGI server loop has no stop call; everything worth keeping is written

    def stop(signum: int, _frame: Any) -> None:
        # A signal handler may interrupt any greenlet: do the work in a greenlet of its own.
        logger.info("received signal %d, shutting down", signum)
        gateway.realtime.socketio.start_background_task(finish)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    gateway.start_background()
    announce_start(app.config["REDIS_URL"], get_ops(app).service)  # the health monitor counts restarts
    logger.info("gateway listening on http://%s:%d (%s)", host, port, ASYNC_MODE)
    if ASYNC_MODE == "threading":
        logger.warning("ASYNC_MODE=threading serves with Werkzeug's development server: not for production")
    # Flask-SocketIO's middleware is already app.wsgi_app; serving the app directly (rather than
    # socketio.run) is what lets the gateway share the hardened server and its HTTP_* limits.
    serve_wsgi(app, host, port, ASYNC_MODE, HttpLimits.from_config(app.config))


if __name__ == "__main__":
    main()
