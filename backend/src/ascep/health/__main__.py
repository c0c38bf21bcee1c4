"""Run the health monitor: python -m ascep.health."""

from ascep.common.asyncmode import prepare_async_mode

ASYNC_MODE = prepare_async_mode()  # must run before anything imports socket/threading users

from ascep.common.entrypoint import run_until_stopped  # noqa: E402
from ascep.common.logging_setup import configure_logging  # noqa: E402
from ascep.health import create_app  # noqa: E402


def main() -> None:
    app = create_app()
    configure_logging("health", app.config["LOG_LEVEL"])
    monitor = app.extensions["health.monitor"]
    run_until_stopped(app, ASYNC_MODE, on_start=monitor.start, on_stop=monitor.stop)


if __name__ == "__main__":
    main()
