"""The base every ASCEP Flask app is built on (the gateway included).

``create_service_app`` does what each service would otherwise repeat: typed settings from the
environment, the ``Host`` allow-list, request ids, the error envelope, and the operational
endpoints of :mod:`ops`. The service then registers its own blueprint and checks on the
returned app.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask

from ascep.common.config import COMMON_SETTINGS, Setting, load_settings
from ascep.common.hosts import HostAllowList, refuse_host
from ascep.common.ops import Ops, ops_blueprint
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
    app.extensions["ascep.ops"] = Ops(service=service, settings=declared, config=app.config)
    app.register_blueprint(ops_blueprint)
    return app
