"""Tasks end to end: HTTP through a real gateway, a real Celery worker process, real Redis.

Covers real results (export, backtest, report), progress on Socket.IO, validation errors,
failure, cancellation, and a worker killed mid-task whose task another worker redoes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from ascep.arbitrage.store import SignalStore
from ascep.common.channels import PRICE_HISTORY_FIELD as HISTORY_FIELD
from ascep.common.channels import price_history_key
from ascep.common.timeutil import now_ms
from support.polling import wait_for
from support.processes import HttpService
from support.redis_server import RedisServer
from support.sio import RecordingClient
from support.tasks import Workers, submit, task, wait_status, worker_env


def seed_history(client: redis.Redis, symbol: str, prices: list[float]) -> list[dict[str, Any]]:
    start = now_ms() - 60_000
    records = []
    for i, price in enumerate(prices):
        record = {
            "symbol": symbol,
            "price": price,
            "bid": price - 0.5,
            "ask": price + 0.5,
            "volume": 1.0,
            "source": "test",
            "ts": start + i * 100,
            "timestamp": "t",
        }
        client.xadd(price_history_key(symbol), {HISTORY_FIELD: json.dumps(record)})
        records.append(record)
    return records


@pytest.mark.timeout(120)
def test_real_jobs_return_real_results_and_progress_reaches_socketio(
    stack: dict[str, Any], workers: Workers, redis_client: redis.Redis
) -> None:
    workers.start("w1")
    api = stack["api"]
    prices = [99.0, 101.0, 100.5, 98.0, 97.0, 102.0, 103.0, 99.5] * 5
    records = seed_history(redis_client, "BTCUSDT", prices)
    client = RecordingClient(stack["gateway"].url)
    try:
        export_id = submit(api, "export_prices", {"symbol": "BTCUSDT"})
        done = wait_status(api, export_id, "succeeded")
        rows = list(csv.DictReader(io.StringIO(done["result"]["csv"])))
        assert done["result"]["rows"] == len(records) == len(rows)
        assert [float(r["price"]) for r in rows] == prices
        assert done["attempts"] == 1
        assert done["runtime_ms"] >= 0
        download = requests.get(f"{api}/{export_id}/result.csv", timeout=5)
        assert download.headers["Content-Type"].startswith("text/csv")
        assert download.text == done["result"]["csv"]

        rule = {
            "name": "above 100",
            "pattern": "threshold",
            "conditions": {"field": "price", "op": ">", "value": 100},
        }
        backtest_id = submit(api, "backtest_rule", {"rule": rule, "symbol": "BTCUSDT"})
        result = wait_status(api, backtest_id, "succeeded")["result"]
        crossings = sum(1 for a, b in pairwise(prices) if a <= 100 < b)
        assert result["events"] == len(prices)
        assert result["match_count"] == crossings == 10
        assert all(m["message"] for m in result["matches"])

        updates = wait_for(
            lambda: [
                u
                for u in client.events("task_update")
                if u["id"] == backtest_id and u["status"] == "succeeded"
            ],
            timeout=10,
            message="task_update for the finished backtest",
        )
        assert updates[-1]["progress"] == 1.0
        seen = [u["status"] for u in client.events("task_update") if u["id"] == backtest_id]
        assert seen[0] == "queued"
        assert "running" in seen

        listing = requests.get(api, params={"limit": 10}, timeout=5).json()
        assert [t["id"] for t in listing["tasks"]][:2] == [backtest_id, export_id]
        assert "result" not in listing["tasks"][0]
    finally:
        client.close()


@pytest.mark.timeout(90)
def test_signal_report_summarises_stored_signals(
    stack: dict[str, Any], workers: Workers, redis_client: redis.Redis
) -> None:
    workers.start("w1")
    store = SignalStore(redis_client)
    now = now_ms()
    specs = [
        ("triangular", "high", 1.5, "open"),
        ("direct", "low", 0.2, "closed"),
        ("triangular", "medium", 0.8, "closed"),
    ]
    for i, (kind, severity, spread, status) in enumerate(specs):
        payload = {
            "id": store.next_id(),
            "key": f"k{i}",
            "type": kind,
            "severity": severity,
            "status": status,
            "symbols": ["EUR/USD", f"S{i}"],
            "spread_percentage": spread,
            "peak_spread_percentage": spread,
            "first_seen_ts": now - 10_000 + i,
            "last_seen_ts": now - 5_000 + i,
        }
        store.write("open", payload, now)
    report_id = submit(stack["api"], "signal_report", {"since": now - 60_000})
    result = wait_status(stack["api"], report_id, "succeeded")["result"]
    assert result["total"] == 3
    assert result["by_type"] == {"triangular": 2, "direct": 1}
    assert result["by_severity"] == {"high": 1, "low": 1, "medium": 1}
    assert result["peak_spread_percentage"]["max"] == 1.5
    assert result["top_symbols"][0] == {"symbol": "EUR/USD", "signals": 3}
    assert result["best"]["key"] == "k0"


def test_bad_submissions_get_precise_errors(stack: dict[str, Any]) -> None:
    api = stack["api"]
    catalog = requests.get(f"{api}/catalog", timeout=5).json()["tasks"]
    names = {t["name"] for t in catalog}
    assert {"backtest_rule", "signal_report", "export_prices"} <= names
    assert all(t["args_schema"]["type"] == "object" for t in catalog)

    cases = [
        ({"name": "mine_bitcoin", "args": {}}, 422, "name"),
        ({"name": "export_prices", "args": {}}, 422, "args"),
        ({"name": "export_prices", "args": {"symbol": 7}}, 422, "args.symbol"),
        ({"name": "export_prices", "args": {"symbol": "X", "colour": "red"}}, 422, "args"),
        (
            {
                "name": "backtest_rule",
                "args": {"symbol": "BTCUSDT", "rule": {"name": "r", "pattern": "nope"}},
            },
            422,
            None,
        ),
        ({"name": "signal_report", "args": {"since": 10, "until": 5}}, 422, "args.since"),
    ]
    for body, status, field in cases:
        response = requests.post(api, json=body, timeout=5)
        assert response.status_code == status, (body, response.text)
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        if field is not None:
            assert error["details"]["field"] == field, (body, error)
        else:
            assert error["details"]["field"].startswith("args.rule"), error
    not_json = requests.post(api, data="{oops", headers={"Content-Type": "application/json"}, timeout=5)
    assert not_json.status_code == 400
    assert not_json.json()["request_id"]
    missing = requests.get(f"{api}/does-not-exist", timeout=5)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.timeout(120)
def test_failure_cancel_and_a_killed_worker(stack: dict[str, Any], workers: Workers) -> None:
    api = stack["api"]
    first = workers.start("w1")

    failing = submit(api, "count_slowly", {"steps": 5, "step_ms": 1, "fail_at": 2})
    failed = wait_status(api, failing, "failed")
    assert "asked to fail at step 2" in failed["error"]

    running = submit(api, "count_slowly", {"steps": 400, "step_ms": 50})
    queued = submit(api, "count_slowly", {"steps": 1})  # waits: the only pool slot is busy
    wait_for(lambda: task(api, running)["progress"] > 0, timeout=30, message="first task under way")
    assert task(api, queued)["status"] == "queued"
    cancelled_queued = requests.post(f"{api}/{queued}/cancel", timeout=5)
    assert cancelled_queued.status_code == 200
    assert cancelled_queued.json()["status"] == "cancelled"
    accepted = requests.post(f"{api}/{running}/cancel", timeout=5)
    assert accepted.status_code == 202
    stopped = wait_status(api, running, "cancelled")
    assert stopped["progress"] < 1.0
    again = requests.post(f"{api}/{running}/cancel", timeout=5)
    assert again.status_code == 409

    doomed = submit(api, "count_slowly", {"steps": 40, "step_ms": 50})
    wait_for(lambda: task(api, doomed)["progress"] > 0, timeout=30, message="task under way")
    workers.kill(first)
    assert task(api, doomed)["status"] == "running"
    workers.start("w2")
    redone = wait_status(api, doomed, "succeeded", timeout=60)
    assert redone["attempts"] == 2
    assert redone["result"] == {"counted": 40}
    # The cancelled queued task was skipped by the worker, not run.
    assert task(api, queued)["attempts"] == 0


@pytest.mark.timeout(60)
def test_a_task_is_bounded_in_time(stack: dict[str, Any], workers: Workers) -> None:
    workers.start("w1", TASK_TIME_LIMIT_S="15")  # the soft limit, 10 s earlier, stops it at 5 s
    api = stack["api"]
    endless = submit(api, "count_slowly", {"steps": 600, "step_ms": 50})  # would take 30 s
    failed = wait_status(api, endless, "failed", timeout=30)
    assert "time limit of 5s exceeded" in failed["error"]
    assert 4_000 <= failed["runtime_ms"] < 15_000
    assert failed["progress"] < 0.5


def test_redis_down_gives_503_and_the_api_recovers(
    start_service: Callable[..., HttpService], tmp_path: Path
) -> None:
    redis_server = RedisServer(tmp_path / "redis").start()
    try:
        tasks = start_service("tasks", "ascep.tasks", worker_env(redis_server.url))
        api = f"{tasks.url}/tasks"
        redis_server.stop()
        for response in (
            requests.post(api, json={"name": "export_prices", "args": {"symbol": "BTCUSDT"}}, timeout=15),
            requests.get(api, timeout=15),
        ):
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "DEPENDENCY_UNAVAILABLE"
            assert response.json()["request_id"]
        redis_server.start()
        wait_for(
            lambda: (
                requests.post(
                    api, json={"name": "export_prices", "args": {"symbol": "BTCUSDT"}}, timeout=5
                ).status_code
                == 202
            ),
            timeout=20,
            message="submissions accepted again",
        )
    finally:
        redis_server.stop()
