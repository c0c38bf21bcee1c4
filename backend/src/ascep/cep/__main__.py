"""Run the CEP engine service: python -m ascep.cep (the engine loop starts in ``create_app``)."""

from ascep.common.asyncmode import prepare_async_mode

ASYNC_MODE = prepare_async_mode()  # must run before anything imports socket/threading users

from ascep.cep import create_app  # noqa: E402
from ascep.cep.gc_tuning import tune_gc  # noqa: E402
from ascep.cep.runner import EngineRunner  # noqa: E402
from ascep.common.entrypoint import run_until_stopped  # noqa: E402
from ascep.common.logging_setup import configure_logging  # noqa: E402


def main() -> None:
    app = create_app()
    configure_logging("cep_engine", app.config["LOG_LEVEL"])
    runner: EngineRunner = app.extensions["cep.runner"]
    tune_gc()

    def stop() -> None:
        runner.stop()
        runner.actions.webhooks.stop()

    run_until_stopped(app, ASYNC_MODE, on_stop=stop)


if __name__ == "__main__":
    main()
