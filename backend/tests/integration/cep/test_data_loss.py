"""A Redis that loses its data under a running engine: health tells, rules survive, ids go on.

Real ``python -m ascep.cep`` processes and a real redis-server: ``FLUSHALL`` (or a restart without
persistence) wipes the rules hash and the id counter while the engine still holds the rules in
memory; a persistent Redis killed with SIGKILL keeps them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import redis
import requests

from ascep.cep.store import RuleStore
from ascep.common import channels
from support.polling import wait_for
from support.processes import HttpService
from support.redis_server import RedisServer

pytestmark = pytest.mark.integration

RULE = {"name": "BTC above", "pattern": "threshold", "conditions": {"field": "price", "op": ">", "value": 1},
        "where": {"field": "symbol", "op": "==", "value": "BTCUSDT"}}  # fmt: skip


def create(cep: HttpService, name: str) -> dict:
    response = requests.post(f"{cep.url}/rules", json={**RULE, "name": name}, timeout=5)
    assert response.status_code == 201, response.text
    return response.json()["rule"]


def data_check(cep: HttpService) -> dict:
    body = requests.get(f"{cep.url}/health", timeout=5).json()
    return {"status": body["status"], **body["checks"]["redis_data"]}


def test_flushall_under_a_running_engine_is_reported_and_repaired(
    start_cep: Callable[..., HttpService], redis_client: redis.Redis
) -> None:
    cep = start_cep()
    first, second = create(cep, "one"), create(cep, "two")
    deleted = create(cep, "three")
    assert requests.delete(f"{cep.url}/rules/{deleted['rule_id']}", timeout=5).status_code == 200
    assert data_check(cep)["status"] == "healthy"

    redis_client.flushall()

    check = wait_for(
        lambda: (c := data_check(cep))["status"] == "degraded" and c,
        timeout=10,
        message="data loss in /health",
    )
    assert check["detail"].startswith("Redis lost its data at ")
    restored = wait_for(
        lambda: redis_client.hlen(channels.CEP_RULES_KEY) == 2, timeout=10, message="rules written back"
    )
    assert restored
    listed = requests.get(f"{cep.url}/rules", timeout=5).json()["rules"]
    assert [r["rule_id"] for r in listed] == [first["rule_id"], second["rule_id"]]
    assert listed[0]["name"] == "one"

    # The counter restarted at 0 with the flush: the next id must still be above every id ever
    # handed out (the deleted rule's included), never a reused one.
    fresh = create(cep, "after the loss")
    assert fresh["rule_id"] > deleted["rule_id"]
    # Still reported a while later (REDIS_DATA_LOSS_REPORT_S, default one hour).
    assert data_check(cep)["status"] == "degraded"
    status = requests.get(f"{cep.url}/status", timeout=5).json()["redis_data"]
    assert status["losses_noticed"] == 1


def test_a_restarted_empty_redis_does_not_wipe_the_engines_rules(
    start_cep: Callable[..., HttpService], redis_server: RedisServer, redis_url: str
) -> None:
    """The engine reloads rules on every reconnect: from an empty Redis that would drop them all."""
    cep = start_cep()
    rule = create(cep, "kept")
    redis_server.restart()  # not persistent: comes back empty

    def reloaded() -> list[dict]:
        status = requests.get(f"{cep.url}/status", timeout=5).json()
        rules = requests.get(f"{cep.url}/rules", timeout=5).json()["rules"]
        subscription = status["subscription"]
        return subscription["reconnects"] >= 1 and subscription["state"] == "connected" and rules

    rules = wait_for(reloaded, timeout=20, message="engine reconnected with its rules")
    assert [r["rule_id"] for r in rules] == [rule["rule_id"]]
    assert data_check(cep)["status"] == "degraded"
    assert create(cep, "next")["rule_id"] > rule["rule_id"]


def test_persistent_redis_killed_keeps_rules_and_the_counter(tmp_path: Path) -> None:
    """appendonly + SIGKILL + start on the same directory: nothing to restore, ids continue."""
    server = RedisServer(tmp_path / "redis", persistent=True).start()
    try:
        with server.client() as client:
            store = RuleStore(client)
            docs = [store.create({"name": f"r{i}", "pattern": "threshold"}) for i in range(3)]
        server.stop(kill=True)
        server.start()
        with server.client() as client:
            store = RuleStore(client)  # a new process: knows nothing in memory
            assert [d["rule_id"] for d in store.all()] == [d["rule_id"] for d in docs]
            following = store.create({"name": "next", "pattern": "threshold"})
            assert following["rule_id"] == docs[-1]["rule_id"] + 1
    finally:
        server.stop()


def test_rule_ids_take_the_floor_when_the_counter_is_behind(redis_client: redis.Redis) -> None:
    store = RuleStore(redis_client, floor=lambda: 41)
    assert store.create({"name": "a", "pattern": "threshold"})["rule_id"] == 42
    redis_client.delete(channels.CEP_RULE_SEQ_KEY)
    other = RuleStore(redis_client, floor=lambda: 7)
    assert other.create({"name": "b", "pattern": "threshold"})["rule_id"] == 8
    assert store.create({"name": "c", "pattern": "threshold"})["rule_id"] == 43  # remembers what it issued
