"""The base every ASCEP Flask app is built on (the gateway included).

``create_service_app`` does what each service would otherwise repeat: typed settings from the
environment, the ``Host`` allow-list, request ids, the error envelope, the operational endpoints of
:mod:`ops`, and the ``redis_data`` health check of :mod:`data_epoch` (every service shares Redis,
so every service says when Redis lost its data; the watch is ``app.extensions["ascep.data_epoch"]``
for services that restore state on a loss). The service then registers its own blueprint and
checks on the app.

Settings are resolved once, by the service, into its typed settings class (``GatewaySettings``,
``CepSettings``... — subclasses of :class:`CommonSettings`); the app keeps that object
(:func:`settings_of`) and mirrors it into ``app.config`` for Flask and ``/status``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

from flask import Flask

from ascep.common.config import COMMON_SETTINGS, CommonSettings, Setting
from ascep.common.data_epoch import DataEpochWatch
from ascep.common.hosts import HostAllowList, refuse_host
from ascep.common.openapi.views import openapi_blueprint
from ascep.common.ops import Ops, ops_blueprint
from ascep.common.web import install_error_handlers, install_request_context

_SETTINGS_KEY = "ascep.settings"
S = TypeVar("S", bound=CommonSettings)


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
    settings: CommonSettings,
    config: Mapping[str, Any] | None = None,
    import_name: str | None = None,
) -> ServiceApp:
    """A Flask app with ASCEP's settings, request ids, error envelope and ops endpoints.

    ``settings`` is the service's typed settings object; ``config`` the overrides it was built
    from, whose undeclared keys (Flask's own, such as ``TESTING``) go to ``app.config`` as well.
    """
    declared = type(settings).declared()
    names = {s.name for s in declared}
    app = ServiceApp(import_name or f"ascep.{service}")
    app.config.from_mapping(settings.as_config())
    app.config.from_mapping({k: v for k, v in (config or {}).items() if k not in names})
    app.extensions[_SETTINGS_KEY] = settings
    app.allowed_hosts = HostAllowList.from_patterns(settings.allowed_hosts)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep documented field order
    install_request_context(app)
    install_error_handlers(app)
    ops = Ops(service=service, settings=declared, config=app.config)
    app.extensions["ascep.ops"] = ops
    app.register_blueprint(ops_blueprint)
    app.register_blueprint(openapi_blueprint)
    # Half the usual Redis timeouts: this runs inside /health, which must answer well within the
    # health monitor's probe timeout even while Redis hangs.
    redis = settings.redis
    quick = replace(redis, socket_timeout=redis.socket_timeout / 2, connect_timeout=redis.connect_timeout / 2)
    watch = DataEpochWatch(quick.client, service, report_s=settings.redis_data_loss_report_s)
    app.extensions["ascep.data_epoch"] = watch
    ops.health_checks["redis_data"] = watch.health_check
    ops.status_sections["redis_data"] = watch.status
    return app


def settings_of(app: Flask, kind: type[S]) -> S:
    """The typed settings ``create_service_app`` was given (``kind``: the service's class)."""
    settings = app.extensions[_SETTINGS_KEY]
    if not isinstance(settings, kind):
        raise TypeError(f"{app.name} has {type(settings).__name__}, not {kind.__name__}")
    return settings


def data_epoch(app: Flask) -> DataEpochWatch:
    """The app's :class:`DataEpochWatch`."""
    return app.extensions["ascep.data_epoch"]
