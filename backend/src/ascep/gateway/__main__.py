"""Run the gateway: ``python -m ascep.gateway`` (port from ``PORT``, default 5000)."""

from ascep.common.asyncmode import prepare_async_mode

ASYNC_MODE = prepare_async_mode()  # first: patch the stdlib before any socket user is imported

from ascep.common.service_main import run_service  # noqa: E402
from ascep.gateway import create_app  # noqa: E402


def main() -> None:
    run_service(create_app, ASYNC_MODE, discoverable=False)  # the gateway is no upstream


if __name__ == "__main__":
    main()
