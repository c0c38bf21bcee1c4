"""Run the tasks HTTP API: python -m ascep.tasks (the worker: ``celery -A ascep.tasks.celery_app worker``)."""

from ascep.common.asyncmode import prepare_async_mode

ASYNC_MODE = prepare_async_mode()  # first: patch the stdlib before any socket user is imported

from ascep.common.service_main import run_service  # noqa: E402
from ascep.tasks import create_app  # noqa: E402


def main() -> None:
    run_service(create_app, ASYNC_MODE)


if __name__ == "__main__":
    main()
