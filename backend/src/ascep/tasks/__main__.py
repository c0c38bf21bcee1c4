"""Run the tasks HTTP API: python -m ascep.tasks (the worker: ``celery -A ascep.tasks.celery_app worker``)."""

from ascep.common.asyncmode import prepare_async_mode

ASYNC_MODE = prepare_async_mode()  # must run before anything imports socket/threading users

from ascep.common.entrypoint import run_until_stopped  # noqa: E402
from ascep.common.logging_setup import configure_logging  # noqa: E402
from ascep.tasks import create_app  # noqa: E402


def main() -> None:
    app = create_app()
    configure_logging("tasks", app.config["LOG_LEVEL"])
    run_until_stopped(app, ASYNC_MODE)


if __name__ == "__main__":
    main()
