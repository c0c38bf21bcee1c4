"""The live loop's pieces against real Redis, driven by hand (no thread): rule errors, changes."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import redis

from ascep.cep.actions import ActionRunner
from ascep.cep.engine import Engine
from ascep.cep.runner import EngineRunner
from ascep.cep.store import AlertStore, RuleStore
from ascep.cep.webhook import WebhookWorker
from ascep.common import channels
from ascep.common.events import encode

pytestmark = pytest.mark.integration

LEVEL = {"name": "level", "pattern": "threshold", "stream": "prices", "partition_by": ["symbol"],
         "conditions": {"field": "price", "op": ">", "value": 100, "mode": "level"}}  # fmt: skip


def make_runner(redis_url: str, client: redis.Redis) -> EngineRunner:
    alerts = AlertStore(lambda: client, capacity=3)
    actions = ActionRunner(lambda: client, alerts, WebhookWorker(1, 10, time.sleep))
    return EngineRunner(redis_url, Engine(), RuleStore(client), actions, sleep=time.sleep)


def message(channel: str, payload: Any) -> dict[str, Any]:
    return {"channel": channel, "data": encode(payload) if not isinstance(payload, str) else payload}


def test_a_rule_that_raises_is_disabled_and_the_error_stored(
    redis_url: str, redis_client: redis.Redis
) -> None:
    runner = make_runner(redis_url, redis_client)
    doc = runner.store.create(LEVEL)
    runner.reload()
    runtime = runner.engine.runtime(doc["rule_id"])
    assert runtime is not None

    def boom(*_args: Any) -> None:
        raise KeyError("surprise")

    runtime.rule.pattern.on_event = boom  # type: ignore[method-assign]
    runner.receive(message(channels.PRICE_UPDATES, {"symbol": "X", "price": 101, "ts": 1}))
    stored = runner.store.get(doc["rule_id"])
    assert stored is not None
    assert stored["enabled"] is False
    assert stored["error"]["message"] == "KeyError: 'surprise'"
    assert stored["version"] > doc["version"]


def test_changes_and_malformed_messages(redis_url: str, redis_client: redis.Redis) -> None:
    runner = make_runner(redis_url, redis_client)
    doc = runner.store.create(LEVEL)
    runner.receive(message(channels.CEP_RULE_CHANGES, {"op": "upsert", "rule": doc}))
    assert [rt.rule.rule_id for rt in runner.engine.runtimes()] == [doc["rule_id"]]
    runner.receive(message(channels.PRICE_UPDATES, "{oops"))
    runner.receive(message(channels.PRICE_UPDATES, {"symbol": "X", "price": 101, "ts": 1}))
    assert runner.malformed == 1
    firings = runner.firings
    assert len(firings) == 1
    runner.actions.run(firings * 5)  # the same alert five times: claimed once
    assert redis_client.llen(channels.CEP_ALERTS_KEY) == 1
    for ts in range(2, 7):
        runner.actions.run(runner.engine.process("prices", {"symbol": "X", "price": 101, "ts": ts}))
    assert redis_client.llen(channels.CEP_ALERTS_KEY) == 3  # capped
    assert json.loads(redis_client.lindex(channels.CEP_ALERTS_KEY, 0))["ts"] == 6  # newest first
    runner.receive(message(channels.CEP_RULE_CHANGES, {"op": "delete", "rule_id": doc["rule_id"]}))
    assert runner.engine.runtimes() == []
