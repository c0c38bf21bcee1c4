"""Assemble the CEP engine app: engine, Redis stores, actions, the subscription loop, views, ops.

Nothing starts here: the runtime's ``start()`` subscribes (the entry point calls it; a WSGI server
hosting :func:`ascep.cep.create_app` calls ``runtime_of(app).start()`` in its post-fork hook).
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
from ascep.cep.runtime import CepRuntime
from ascep.cep.settings import SERVICE_NAME, CepSettings, egress_policy_from, limits_from
from ascep.cep.store import AlertStore, RuleStore
from ascep.cep.triggers import TriggerStore
from ascep.cep.views import cep_blueprint
from ascep.cep.webhook import WebhookWorker
from ascep.common.app_factory import create_service_app, data_epoch
from ascep.common.instruments import configured_index
from ascep.common.lifecycle import install_runtime
from ascep.common.ops import CheckResult, get_ops, redis_check


def build_app(config: Mapping[str, Any] | None = None) -> Flask:
    settings = CepSettings.load(config)
    app = create_service_app(SERVICE_NAME, settings, config)
    app.config.setdefault("MAX_CONTENT_LENGTH", settings.max_json_body_bytes)
    client = settings.redis.client()
    engine = Engine(limits_from(settings))
    store = RuleStore(client, settings.cep_max_rules)
    alerts = AlertStore(settings.redis.client, settings.cep_alerts_max)
    webhooks = WebhookWorker(
        settings.cep_webhook_workers,
        settings.cep_webhook_queue_size,
        time.sleep,
        egress_policy_from(settings),
    )
    actions = ActionRunner(settings.redis.client, alerts, webhooks, TriggerStore(client))
    runner = EngineRunner(settings.redis_url, engine, store, actions, sleep=time.sleep,
                          tick_interval=settings.cep_tick_interval_s)  # fmt: skip
    store.floor = runner.highest_version  # ids above every rule in memory, even after a data loss
    runner.watch_data_epoch(data_epoch(app))
    runtime = CepRuntime(settings, client, engine, store, alerts, actions, webhooks, runner,
                         symbols=configured_index(settings))  # fmt: skip
    install_runtime(app, runtime)
    app.register_blueprint(cep_blueprint)
    _install_ops(app, runtime)
    return app


def _install_ops(app: Flask, runtime: CepRuntime) -> None:
    ops = get_ops(app)
    runner = runtime.runner

    def subscription_check() -> CheckResult:
        if runner.state == "connected":
            return CheckResult("healthy", {"rules": runner.engine.rule_count()})
        if runner.state == "starting" and runtime.started:
            return CheckResult("degraded", "subscribing to the event streams")
        if runner.state == "starting":
            return CheckResult("degraded", "event subscription not started (the runtime was not started)")
        return CheckResult("unhealthy", f"event subscription down: {runner.last_error}")

    ops.health_checks["subscription"] = subscription_check
    ops.readiness_checks["redis"] = redis_check(runtime.redis)
    ops.status_sections["subscription"] = runner.status
    ops.status_sections["engine"] = lambda: runner.engine.stats.as_dict()
    ops.status_sections["actions"] = runner.actions.status
    ops.metrics.register(CepCollector(runner))
