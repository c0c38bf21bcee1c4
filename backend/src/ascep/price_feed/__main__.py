"""Run the price feed service: python -m ascep.price_feed."""

from ascep.common.asyncmode import prepare_async_mode

ASYNC_MODE = prepare_async_mode()  # must run before anything imports socket/threading users

import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from types import FrameType  # noqa: E402

from ascep.common.logging_setup import configure_logging  # noqa: E402
from ascep.common.serve import serve_wsgi  # noqa: E402
from ascep.price_feed import create_app  # noqa: E402
from ascep.price_feed.feed import PriceFeed  # noqa: E402

logger = logging.getLogger("ascep.price_feed")


def _exit_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    """Turn SIGTERM into SystemExit so ``main``'s ``finally`` flushes and stops the sources."""
    raise SystemExit(0)


def main() -> None:
    app = create_app()
    configure_logging("price_feed", app.config["LOG_LEVEL"])
    feed: PriceFeed = app.extensions["price_feed"]
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    feed.start()
    try:
        serve_wsgi(app, app.config["HOST"], app.config["PORT"], ASYNC_MODE)
    except KeyboardInterrupt:
        pass
    finally:
        logger.info("shutting down")
        feed.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
