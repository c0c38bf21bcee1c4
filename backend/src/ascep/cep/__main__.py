"""Run the CEP engine service: python -m ascep.cep."""

from ascep.common.asyncmode import prepare_async_mode

ASYNC_MODE = prepare_async_mode()  # must run before anything imports socket/threading users

import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from types import FrameType  # noqa: E402

from ascep.cep import create_app  # noqa: E402
from ascep.cep.gc_tuning import tune_gc  # noqa: E402
from ascep.cep.runner import EngineRunner  # noqa: E402
from ascep.common.logging_setup import configure_logging  # noqa: E402
from ascep.common.serve import serve_wsgi  # noqa: E402

logger = logging.getLogger("ascep.cep")

_POLL_S = 0.2


class _StopRequest:
    """Set by SIGTERM/SIGINT; a plain flag, as in the price feed (see there why)."""

    def __init__(self) -> None:
        self.signal: int | None = None

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        self.signal = signum


def main() -> None:
    app = create_app()
    configure_logging("cep_engine", app.config["LOG_LEVEL"])
    runner: EngineRunner = app.extensions["cep.runner"]
    tune_gc()
    stop = _StopRequest()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server = threading.Thread(
        target=serve_wsgi,
        args=(app, app.config["HOST"], app.config["PORT"], ASYNC_MODE),
        name="http-server",
        daemon=True,
    )
    server.start()
    while stop.signal is None and server.is_alive():
        time.sleep(_POLL_S)
    if stop.signal is None:
        logger.error("HTTP server stopped unexpectedly")
    logger.info("shutting down")
    runner.stop()
    runner.actions.webhooks.stop()
    sys.exit(0 if stop.signal is not None else 1)


if __name__ == "__main__":
    main()
