"""Run the arbitrage detector: python -m ascep.arbitrage."""

from ascep.common.asyncmode import prepare_async_mode

ASYNC_MODE = prepare_async_mode()  # must run before anything imports socket/threading users

import threading  # noqa: E402

from ascep.arbitrage import create_app  # noqa: E402
from ascep.arbitrage.listener import ArbitrageListener  # noqa: E402
from ascep.common.entrypoint import run_until_stopped  # noqa: E402
from ascep.common.logging_setup import configure_logging  # noqa: E402


def main() -> None:
    app = create_app()
    configure_logging("arbitrage", app.config["LOG_LEVEL"])
    listener: ArbitrageListener = app.extensions["arbitrage.listener"]

    def start_listener() -> None:
        threading.Thread(target=listener.run, name="arbitrage-listener", daemon=True).start()

    run_until_stopped(app, ASYNC_MODE, on_start=start_listener, on_stop=listener.stop)


if __name__ == "__main__":
    main()
