"""Assemble the tasks API: settings, Celery client, records, catalog, views and checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response
from kombu.exceptions import OperationalError

from ascep.common.app_factory import create_service_app
from ascep.common.errors import DependencyUnavailable
from ascep.common.heartbeats import live_workers
from ascep.common.lifecycle import install_runtime, runtime_of
from ascep.common.ops import CheckResult, get_ops, redis_check
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS
from ascep.common.web import error_response
from ascep.tasks.catalog import build_catalog
from ascep.tasks.celery_setup import make_celery
from ascep.tasks.records import TaskRecords
from ascep.tasks.runtime import TasksRuntime
from ascep.tasks.settings import SERVICE_NAME, TasksSettings
from ascep.tasks.symbols import symbol_resolver
from ascep.tasks.views import tasks_blueprint


def build_app(config: Mapping[str, Any] | None = None) -> Flask:
    settings = TasksSettings.load(config)
    app = create_service_app(SERVICE_NAME, settings, config)
    client = settings.redis.client()
    runtime = TasksRuntime(
        settings,
        client,
        TaskRecords(client, settings.task_history_size, settings.task_record_ttl_s),
        build_catalog(settings.task_extra_modules, symbol_resolver(settings, client)),
        make_celery(settings),
    )
    install_runtime(app, runtime)
    app.register_blueprint(tasks_blueprint)
    app.register_error_handler(OperationalError, _broker_down)
    _install_ops(app, runtime)
    return app


def _broker_down(error: OperationalError) -> Response:
    """The Celery broker (Redis) refused a new task: 503, so the client retries later."""
    return error_response(
        DependencyUnavailable(f"the task broker is unavailable: {error}", {"dependency": "redis"})
    )


def _install_ops(app: Flask, runtime: TasksRuntime) -> None:
    ops = get_ops(app)
    client = runtime.redis
    max_age_ms = 3 * runtime.settings.worker_heartbeat_interval_s * 1000

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
    ops.status_sections["catalog"] = lambda: [job.name for job in runtime_of(app, TasksRuntime).catalog]
