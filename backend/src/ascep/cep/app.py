"""Assemble the CEP engine app: engine, Redis stores, actions, the subscription loop, views, ops.

The subscription starts here (``CEP_AUTOSTART``, on by default), not only in ``__main__``: any
WSGI server that calls :func:`ascep.cep.create_app` gets a live engine.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flask import Flask

from ascep.cep.actions import ActionRunner
from ascep.cep.engine import Engine
from ascep.cep.metrics import CepCollector
from ascep.cep.runner import EngineRunner
from ascep.cep.settings import SERVICE_NAME, SETTINGS, limits_from
from ascep.cep.store import AlertStore, RuleStore
from ascep.cep.views import cep_blueprint
from ascep.cep.webhook import WebhookWorker
from ascep.common.ops import CheckResult, get_ops, redis_check
from ascep.common.redis_client import connect
from ascep.common.service import create_service_app, data_epoch


def build_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = create_service_app(SERVICE_NAME, SETTINGS, config)
    app.config.setdefault("MAX_CONTENT_LENGTH", app.config["MAX_JSON_BODY_BYTES"])
    url = app.config["REDIS_URL"]
    client = connect(url, socket_timeout=2.0, connect_timeout=1.0)
    engine = Engine(limits_from(app.config))
    store = RuleStore(client, app.config["CEP_MAX_RULES"])
    alerts = AlertStore(
        lambda: connect(url, socket_timeout=2.0, connect_timeout=1.0), app.config["CEP_ALERTS_MAX"]
    )
    webhooks = WebhookWorker(
        app.config["CEP_WEBHOOK_WORKERS"], app.config["CEP_WEBHOOK_QUEUE_SIZE"], time.sleep
    )
    actions = ActionRunner(lambda: connect(url, socket_timeout=2.0, connect_timeout=1.0), alerts, webhooks)
    runner = EngineRunner(url, engine, store, actions, sleep=time.sleep,
                          tick_interval=app.config["CEP_TICK_INTERVAL_S"])  # fmt: skip
    store.floor = runner.highest_version  # ids above every rule in memory, even after a data loss
    runner.watch_data_epoch(data_epoch(app))
    app.extensions["cep.engine"] = engine
    app.extensions["cep.store"] = store
    app.extensions["cep.alerts"] = alerts
    app.extensions["cep.runner"] = runner
    app.extensions["cep.actions"] = actions
    app.register_blueprint(cep_blueprint)
    _install_ops(app, runner, client)
    if app.config["CEP_AUTOSTART"]:
        webhooks.start()
        runner.start()
    return app


def _install_ops(app: Flask, runner: EngineRunner, client: Any) -> None:
    ops = get_ops(app)

    def subscription_check() -> CheckResult:
        if runner.state == "connected":
            return CheckResult("healthy", {"rules": runner.engine.rule_count()})
        if runner.state == "starting" and app.config["CEP_AUTOSTART"]:
            return CheckResult("degraded", "subscribing to the event streams")
        if not app.config["CEP_AUTOSTART"] and runner.state == "starting":
            return CheckResult("degraded", "event subscription not started (CEP_AUTOSTART=0)")
        return CheckResult("unhealthy", f"event subscription down: {runner.last_error}")

    ops.health_checks["subscription"] = subscription_check
    ops.readiness_checks["redis"] = redis_check(client)
    ops.status_sections["subscription"] = runner.status
    ops.status_sections["engine"] = lambda: runner.engine.stats.as_dict()
    ops.status_sections["actions"] = runner.actions.status
    ops.metrics.register(CepCollector(runner))
