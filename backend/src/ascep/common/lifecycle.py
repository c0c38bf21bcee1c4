"""One lifecycle for every service: a runtime object with ``start()`` and ``stop()``.

``create_app`` only *builds* (tests, WSGI servers and the entry point all get an idle app); what
runs in the background — loops, flushers, workers — is started by the service's runtime, kept in
``app.extensions["ascep.<service>"]`` next to everything else the service holds (Flask's
one-bundle-per-extension pattern). The entry point (:func:`ascep.common.service_main.run_service`)
starts it before serving and stops it on SIGTERM/SIGINT, so every service ends its loops and
writes what it buffered the same way. A WSGI server hosting ``create_app()`` does the same in its
post-fork hook: ``runtime_of(app).start()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVar, overload

from flask import current_app

from ascep.common.ops import get_ops

if TYPE_CHECKING:
    from flask import Flask


class ServiceRuntime(Protocol):
    """What a service runs besides its HTTP server."""

    def start(self) -> None:
        """Start the background work (once, before the server takes traffic)."""

    def stop(self) -> None:
        """End the background work and write what is buffered; return when it is done."""


def extension_key(service: str) -> str:
    """Where a service keeps its runtime in ``app.extensions``."""
    return f"ascep.{service}"


def install_runtime(app: Flask, runtime: ServiceRuntime) -> None:
    """Keep ``runtime`` as the app's service runtime (``create_app`` calls this once)."""
    app.extensions[extension_key(get_ops(app).service)] = runtime


R = TypeVar("R")


@overload
def runtime_of(app: Flask) -> ServiceRuntime: ...
@overload
def runtime_of(app: Flask, kind: type[R]) -> R: ...
def runtime_of(app: Flask, kind: type[R] | None = None) -> ServiceRuntime | R:
    """The runtime :func:`install_runtime` kept for ``app`` (checked to be a ``kind``, if given)."""
    runtime = app.extensions[extension_key(get_ops(app).service)]
    if kind is not None and not isinstance(runtime, kind):
        raise TypeError(f"{app.name} runs {type(runtime).__name__}, not {kind.__name__}")
    return runtime


def current_runtime(kind: type[R]) -> R:
    """The runtime of the app handling the current request (what a view reaches its service by)."""
    return runtime_of(current_app, kind)
