"""Tasks keep Redis bounded and answer consistently: result cap, record TTL and history, status
filter, symbols spelled as ``/prices`` accepts them, and what a cancelled task reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import redis
import requests

from ascep.common import channels
from ascep.common.channels import PRICE_HISTORY_FIELD as HISTORY_FIELD
from ascep.common.timeutil import now_ms
from ascep.tasks.results import encoded_size
from support.polling import wait_for
from support.processes import HttpService
from support.tasks import Workers, submit, task, wait_status, worker_env


def seed(client: redis.Redis, symbol: str, count: int) -> list[int]:
    start = now_ms() - 600_000
    stamps = []
    for i in range(count):
        record = {"symbol": symbol, "price": 100.0 + i % 7, "bid": 99.5, "ask": 100.5, "ts": start + i * 10}
        client.xadd(channels.price_history_key(symbol), {HISTORY_FIELD: json.dumps(record)})
        stamps.append(start + i * 10)
    return stamps


def tasks_api(start_service: Callable[..., HttpService], redis_url: str, **env: str) -> str:
    return f"{start_service('tasks', 'ascep.tasks', worker_env(redis_url, **env)).url}/tasks"


@pytest.mark.timeout(120)
def test_results_are_capped_and_expire_within_a_day(
    start_service: Callable[..., HttpService], redis_url: str, redis_client: redis.Redis, workers: Workers
) -> None:
    api = tasks_api(start_service, redis_url)
    workers.start("w1", TASK_RESULT_MAX_BYTES="4096")
    stamps = seed(redis_client, "BTCUSDT", 300)

    export = wait_status(api, submit(api, "export_prices", {"symbol": "BTCUSDT"}), "succeeded")
    result = export["result"]
    assert encoded_size(result) <= 4096
    assert result["truncated"] is True
    assert 0 < result["rows"] < 300
    assert result["csv"].count("\n") == result["rows"] + 1
    assert result["next_since"] == stamps[result["rows"]]
    assert "TASK_RESULT_MAX_BYTES" in result["truncated_reason"]
    assert export["message"].startswith("done; result truncated")
    download = requests.get(f"{api}/{export['id']}/result.csv", timeout=5)
    assert download.text == result["csv"]

    rest = submit(api, "export_prices", {"symbol": "BTCUSDT", "since": result["next_since"]})
    assert (
        wait_status(api, rest, "succeeded")["result"]["csv"]
        .splitlines()[1]
        .startswith(str(result["next_since"]))
    )

    too_big = wait_status(api, submit(api, "big_result", {"bytes": 10_000}), "failed")
    assert "exceeds TASK_RESULT_MAX_BYTES (4096 bytes)" in too_big["error"]
    assert too_big["result"] is None

    ttl = redis_client.ttl(channels.task_key(export["id"]))
    assert 0 < ttl <= 86_400
    assert not list(redis_client.scan_iter("celery-task-meta-*"))
    assert not list(redis_client.scan_iter(f"{channels.KEY_PREFIX}celery:celery-task-meta-*"))


def test_the_history_size_bounds_the_records_kept(
    start_service: Callable[..., HttpService], redis_url: str, redis_client: redis.Redis
) -> None:
    api = tasks_api(start_service, redis_url, TASK_HISTORY_SIZE="10")
    ids = [submit(api, "count_slowly", {"steps": 1}) for _ in range(15)]
    records = [k for k in redis_client.scan_iter(channels.task_key("*")) if redis_client.type(k) == "hash"]
    assert sorted(records) == sorted(channels.task_key(t) for t in ids[5:])
    assert requests.get(f"{api}/{ids[0]}", timeout=5).status_code == 404
    assert requests.get(api, params={"limit": 50}, timeout=5).json()["count"] == 10


def test_bad_status_filter_and_symbols_spelled_like_prices(
    stack: dict[str, Any], redis_client: redis.Redis
) -> None:
    api = stack["api"]
    bad = requests.get(api, params={"status": "bogus"}, timeout=5)
    assert bad.status_code == 400, bad.text
    assert bad.json()["error"]["details"] == {"parameter": "status", "value": "bogus"}
    assert bad.json()["request_id"]
    assert requests.get(api, params={"status": "queued"}, timeout=5).status_code == 200

    for raw, canonical in (("EURUSD", "EUR/USD"), ("eur-usd", "EUR/USD"), ("btcusdt", "BTCUSDT")):
        record = task(api, submit(api, "export_prices", {"symbol": raw}))
        assert record["args"]["symbol"] == canonical, (raw, record)
    rule = {"name": "r", "pattern": "threshold", "conditions": {"field": "price", "op": ">", "value": 1}}
    backtest = task(api, submit(api, "backtest_rule", {"rule": rule, "symbol": "Btc/Usdt"}))
    assert backtest["args"]["symbol"] == "BTCUSDT"
    # A symbol only the running price feed knows (published), not this process's configuration.
    redis_client.hset(channels.PRICES_LATEST_KEY, "XRPUSDT", "{}")
    assert task(api, submit(api, "export_prices", {"symbol": "xrp-usdt"}))["args"]["symbol"] == "XRPUSDT"

    unknown = requests.post(api, json={"name": "export_prices", "args": {"symbol": "NOPE"}}, timeout=5)
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["error"]["details"]["field"] == "args.symbol"


@pytest.mark.timeout(120)
def test_exports_find_history_under_any_accepted_spelling(
    start_service: Callable[..., HttpService], redis_url: str, redis_client: redis.Redis, workers: Workers
) -> None:
    api = tasks_api(start_service, redis_url)
    workers.start("w1")
    seed(redis_client, "EUR/USD", 20)
    done = wait_status(api, submit(api, "export_prices", {"symbol": "EURUSD"}), "succeeded")
    assert done["result"]["rows"] == 20
    assert done["result"].get("truncated") is None


@pytest.mark.timeout(90)
def test_a_cancelled_task_keeps_its_progress_and_says_cancelled(
    start_service: Callable[..., HttpService], redis_url: str, workers: Workers
) -> None:
    api = tasks_api(start_service, redis_url)
    workers.start("w1")
    # One long step: the cancel arrives before the job's only (final, 100 %) progress report.
    running = submit(api, "count_slowly", {"steps": 1, "step_ms": 3000})
    waiting = submit(api, "count_slowly", {"steps": 1})
    wait_status(api, running, "running")
    assert requests.post(f"{api}/{waiting}/cancel", timeout=5).status_code == 200
    assert requests.post(f"{api}/{running}/cancel", timeout=5).status_code == 202
    stopped = wait_status(api, running, "cancelled", timeout=30)
    assert stopped["progress"] == 0.0
    assert stopped["message"] == "cancelled"
    skipped = task(api, waiting)
    assert skipped["message"] == "cancelled before it started"
    assert skipped["progress"] == 0.0
    wait_for(lambda: "run_id" not in task(api, running), timeout=1, message="private fields hidden")
