"""The base every ASCEP Flask app is built on (the gateway included).

``create_service_app`` does what each service would otherwise repeat: typed settings from the
environment, the ``Host`` allow-list, request ids, the error envelope, the operational endpoints of
:mod:`ops`, and the ``redis_data`` health check of :mod:`data_epoch` (every service shares Redis,
so every service says when Redis lost its data; the watch is ``app.extensions["ascep.data_epoch"]``
for services that restore state on a loss). The service then registers its own blueprint and
checks on the app.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask

from ascep.common.config import COMMON_SETTINGS, Setting, load_settings
from ascep.common.data_epoch import DataEpochWatch
from ascep.common.hosts import HostAllowList, refuse_host
from ascep.common.ops import Ops, ops_blueprint
from ascep.common.redis_client import connect
from ascep.common.web import install_error_handlers, install_request_context


def service_settings(own: Iterable[Setting]) -> tuple[Setting, ...]:
    """Common settings followed by a service's own; a service's declaration wins on a clash."""
    own = tuple(own)
    own_names = {s.name for s in own}
    return tuple(s for s in COMMON_SETTINGS if s.name not in own_names) + own


class ServiceApp(Flask):
    """A Flask app whose ``Host`` check runs before anything else it serves.

    Middleware is usually stacked on ``wsgi_app``, but the gateway and Flask-SocketIO wrap
    ``wsgi_app`` again after this factory returns; checking in ``__call__`` keeps the guard
    outermost whatever is added later (the proxy dispatcher, Socket.IO, ...).
    """

    allowed_hosts: HostAllowList = HostAllowList.from_patterns(())

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.allowed_hosts.allows(environ.get("HTTP_HOST")):
            return self.wsgi_app(environ, start_response)
        return refuse_host(environ, start_response)


def create_service_app(
    service: str,
    settings: Iterable[Setting],
    config: Mapping[str, Any] | None = None,
    import_name: str | None = None,
) -> ServiceApp:
    """A Flask app with ASCEP's settings, request ids, error envelope and ops endpoints."""
    declared = service_settings(settings)
    app = ServiceApp(import_name or f"ascep.{service}")
    app.config.from_mapping(load_settings(declared, overrides=config))
    app.allowed_hosts = HostAllowList.from_patterns(app.config["ALLOWED_HOSTS"])
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep documented field order
    install_request_context(app)
    install_error_handlers(app)
    ops = Ops(service=service, settings=declared, config=app.config)
    app.extensions["ascep.ops"] = ops
    app.register_blueprint(ops_blueprint)
    url = app.config["REDIS_URL"]
    watch = DataEpochWatch(
        lambda: connect(url, socket_timeout=1.0, connect_timeout=0.5),
        service,
        report_s=app.config["REDIS_DATA_LOSS_REPORT_S"],
    )
    app.extensions["ascep.data_epoch"] = watch
    ops.health_checks["redis_data"] = watch.health_check
    ops.status_sections["redis_data"] = watch.status
    return app


def data_epoch(app: Flask) -> DataEpochWatch:
    """The app's :class:`DataEpochWatch`."""
    return app.extensions["ascep.data_epoch"]
