"""Run the price feed service: python -m ascep.price_feed."""

from ascep.common.asyncmode import prepare_async_mode

ASYNC_MODE = prepare_async_mode()  # must run before anything imports socket/threading users

from ascep.common.entrypoint import run_until_stopped  # noqa: E402
from ascep.common.logging_setup import configure_logging  # noqa: E402
from ascep.price_feed import create_app  # noqa: E402
from ascep.price_feed.feed import PriceFeed  # noqa: E402


def main() -> None:
    app = create_app()
    configure_logging("price_feed", app.config["LOG_LEVEL"])
    feed: PriceFeed = app.extensions["price_feed"]
    run_until_stopped(app, ASYNC_MODE, on_start=feed.start, on_stop=feed.stop)


if __name__ == "__main__":
    main()
