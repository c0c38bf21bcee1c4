"""Assemble the tasks API: settings, Celery client, records, catalog, views and checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response
from kombu.exceptions import OperationalError

from ascep.common.errors import DependencyUnavailable
from ascep.common.heartbeats import live_workers
from ascep.common.ops import CheckResult, get_ops, redis_check
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS, connect
from ascep.common.service import create_service_app
from ascep.common.web import error_response
from ascep.tasks.catalog import build_catalog
from ascep.tasks.celery_setup import make_celery
from ascep.tasks.records import TaskRecords
from ascep.tasks.settings import SERVICE_NAME, SETTINGS
from ascep.tasks.symbols import symbol_resolver
from ascep.tasks.views import tasks_blueprint


def build_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = create_service_app(SERVICE_NAME, SETTINGS, config)
    cfg = app.config
    client = connect(cfg["REDIS_URL"], socket_timeout=2.0, connect_timeout=1.0)
    app.extensions["tasks.redis"] = client
    app.extensions["tasks.records"] = TaskRecords(client, cfg["TASK_HISTORY_SIZE"], cfg["TASK_RECORD_TTL_S"])
    app.extensions["tasks.catalog"] = build_catalog(cfg["TASK_EXTRA_MODULES"], symbol_resolver(cfg, client))
    app.extensions["tasks.celery"] = make_celery(cfg)
    app.register_blueprint(tasks_blueprint)
    app.register_error_handler(OperationalError, _broker_down)
    _install_ops(app, client)
    return app


def _broker_down(error: OperationalError) -> Response:
    """The Celery broker (Redis) refused a new task: 503, so the client retries later."""
    return error_response(
        DependencyUnavailable(f"the task broker is unavailable: {error}", {"dependency": "redis"})
    )


def _install_ops(app: Flask, client: Any) -> None:
    ops = get_ops(app)
    max_age_ms = 3 * app.config["WORKER_HEARTBEAT_INTERVAL_S"] * 1000

    broker_check = redis_check(client)

    def workers_check() -> CheckResult:
        try:
            fresh = live_workers(client, max_age_ms)
        except REDIS_UNAVAILABLE_ERRORS:
            return CheckResult("degraded", "worker heartbeats unknown")
        if not fresh:
            return CheckResult("degraded", "no live worker: tasks queue up until one starts")
        return CheckResult("healthy", {"workers": fresh})

    ops.health_checks["broker"] = broker_check
    ops.health_checks["workers"] = workers_check
    ops.readiness_checks["broker"] = broker_check
    ops.status_sections["catalog"] = lambda: [job.name for job in app.extensions["tasks.catalog"]]
