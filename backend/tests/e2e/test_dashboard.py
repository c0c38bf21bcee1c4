"""The dashboard in real headless Chromium against a real stack (Redis, price feed, arbitrage, CEP,
tasks API, gateway serving the built frontend), all started by this test.

The browser part is ``frontend/e2e/dashboard.e2e.mjs`` (playwright-core driving Debian's
``chromium``); this test builds the frontend when needed, starts the processes, restarts the
gateway when the script asks, and asserts on the JSON the script prints. Screenshots of every page
land in ``artifacts/screenshots/`` (``ASCEP_SCREENSHOT_DIR`` to change).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from ascep.tasks.records import TaskRecords
from support.frontend import FRONTEND, ROOT, ensure_build
from support.ports import free_port
from support.processes import HttpService, ManagedProcess

pytestmark = pytest.mark.integration
logger = logging.getLogger(__name__)

SCRIPT = FRONTEND / "e2e" / "dashboard.e2e.mjs"
RULE_SYMBOL = "EUR/USD"  # the script's default
# Test artefacts (gitignored); ASCEP_SCREENSHOT_DIR=docs/screenshots refreshes the README's images.
SCREENSHOTS = ROOT / os.environ.get("ASCEP_SCREENSHOT_DIR", "artifacts/screenshots")  # relative: to the root
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def built_frontend() -> Path:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)")
    return ensure_build()


def _stack(
    start_service: Callable[..., HttpService], redis_url: str, dist: Path, log_dir: Path
) -> dict[str, Any]:
    common = {"REDIS_URL": redis_url, "LOG_LEVEL": "INFO"}
    # The Celery worker boots while the services start; the browser reaches Tasks ~10 s later.
    worker_args = [sys.executable, "-m", "celery", "-A", "ascep.tasks.celery_app", "worker"]
    worker_args += ["--pool=solo", "--loglevel=INFO", "--hostname=e2e@%h"]
    worker = ManagedProcess("celery_worker", worker_args, {**os.environ, **common}, log_dir).start()
    gateway_port = free_port()
    price_feed = start_service(
        "price_feed",
        "ascep.price_feed",
        {
            **common,
            # Binance unreachable (a closed local port): simulated crypto takes over after 1 s and
            # the feed reports its own reason, which the Overview card must show.
            "PRICE_SOURCES": "binance,simulated,forex",
            "BINANCE_WS_URL": f"ws://127.0.0.1:{free_port()}/stream",
            "FAILOVER_DELAY_S": "1",
            # 15 crypto symbols x 40/s + 13 forex pairs x 30/s: about 1 000 updates/s.
            "SIMULATED_TICK_RATE": "40",
            "FOREX_TICK_RATE": "30",
            "FOREX_MISPRICING_INTERVAL_S": "2",
            "FOREX_MISPRICING_DURATION_S": "6",
            "FOREX_MISPRICING_SIZE_PCT": "0.8",
        },
    )
    arbitrage = start_service("arbitrage", "ascep.arbitrage", {**common, "ARBITRAGE_SWEEP_INTERVAL_S": "0.1"})
    cep = start_service("cep", "ascep.cep", {**common, "CEP_TICK_INTERVAL_S": "0.1"})
    tasks = start_service("tasks", "ascep.tasks", common)
    health = start_service(
        "health",
        "ascep.health",
        {**common, "GATEWAY_URL": f"http://127.0.0.1:{gateway_port}", "HEALTH_CHECK_INTERVAL_S": "1"},
    )
    gateway_env = {
        **common,
        "PRICE_FEED_URL": price_feed.url,
        "ARBITRAGE_URL": arbitrage.url,
        "CEP_ENGINE_URL": cep.url,
        "TASKS_URL": tasks.url,
        "HEALTH_URL": health.url,
        "DASHBOARD_DIST": str(dist),
        "LATENCY_FLUSH_INTERVAL": "0.05",
        "HEALTH_CHECK_TIMEOUT": "1",
    }
    gateway = start_service("gateway", "ascep.gateway", gateway_env, port=gateway_port)
    _seed_cancelled_export(redis_url)
    return {"gateway_env": gateway_env, "gateway": gateway, "worker": worker}


def _seed_cancelled_export(redis_url: str) -> None:
    """An export cancelled after its last progress report, written through the tasks service's
    own record store exactly as a worker would (progress 1.0 "105 rows", then cancelled)."""
    records = TaskRecords(redis.Redis.from_url(redis_url, decode_responses=True), 100, 3600)
    task = records.create("export_prices", {"symbol": "BTCUSDT", "since": int(time.time() * 1000) - 60_000})
    run_id, _, _ = records.start(task["id"], "e2e@seed", 60_000)
    assert run_id is not None
    records.progress(task["id"], run_id, 1.0, "105 rows")
    moved, _, _ = records.transition(
        task["id"],
        ("running",),
        "cancelled",
        held_by=run_id,
        finished_ts=int(time.time() * 1000),
        message="cancelled",
    )
    assert moved


@pytest.mark.timeout(300)
def test_dashboard_end_to_end(
    built_frontend: Path, start_service: Callable[..., HttpService], redis_url: str, tmp_path: Path
) -> None:
    stack = _stack(start_service, redis_url, built_frontend, tmp_path)
    try:
        _browse(stack, start_service)
    finally:
        stack["worker"].stop(timeout=15)


def _browse(stack: dict[str, Any], start_service: Callable[..., HttpService]) -> None:
    gateway: HttpService = stack["gateway"]
    node = subprocess.Popen(
        ["node", str(SCRIPT)],
        cwd=FRONTEND,
        env={
            **os.environ,
            "BASE_URL": gateway.url,
            "SCREENSHOT_DIR": str(SCREENSHOTS),
            "CHROMIUM_PATH": CHROMIUM,
        },
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr: list[str] = []
    reader = threading.Thread(target=lambda: stderr.extend(node.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    result: dict[str, Any] | None = None
    try:
        assert node.stdout is not None
        assert node.stdin is not None
        for line in node.stdout:
            if line.strip() == "RESTART":
                gateway.stop()
                gateway = start_service(
                    "gateway-again", "ascep.gateway", stack["gateway_env"], port=gateway.port
                )
                node.stdin.write("restarted\n")
                node.stdin.flush()
            elif line.startswith("{"):
                result = json.loads(line)
        node.wait(timeout=30)
    finally:
        if node.poll() is None:
            node.kill()
            node.wait(timeout=5)
        reader.join(timeout=5)
        for pipe in (node.stdin, node.stdout, node.stderr):
            if pipe is not None:
                pipe.close()
    log = "".join(stderr)[-6000:]
    assert result is not None, f"the browser script printed no result:\n{log}"
    assert result["ok"], f"{result.get('error')}\n{log}"
    steps = result["steps"]
    logger.info("browser result: %s", json.dumps(result, indent=1))  # the measured numbers

    assert steps["index_content_type"].startswith("text/html")
    assert result["consoleErrors"] == [], result["consoleErrors"]
    assert steps["overview_services"] >= 5
    assert steps["price_update_ms"] <= 5000
    assert steps["price_rows"] >= 10
    load = steps["price_load"]
    assert load["updatesPerSecond"] >= 500, load  # the browser really receives the firehose
    assert load["fps"] >= 20, load  # and keeps painting
    assert load["longestTaskMs"] < 250, load
    assert steps["price_chart_points"] > 1
    assert steps["signal_seen"]
    assert steps["signal_detail_legs"] >= 2
    assert "between 2 and" in steps["config_field_error"]  # the server's words, next to the field
    assert steps["rule_test"].startswith("1 match(es) over 10 events"), steps["rule_test"]  # cooldown 1m
    assert "EUR/USD" in steps["rule_alert"]
    assert steps["latency_points"] >= 4
    assert steps["latency_painted_pixels"] > 0
    assert steps["task"]["status"] == "succeeded", steps["task"]
    # Rough edges of issue 21, each seen in the browser:
    assert "Data exists" in steps["latency_quiet"] or "no sample at all yet" in steps["latency_quiet"]
    for freshness in (steps["latency_freshness"], steps["tasks_freshness"]):  # no stream on the page
        assert "last event" not in freshness, freshness
    ticker = steps["ticker"]
    assert ticker["shown"] == steps["ticker_symbols"] >= 20, ticker  # every symbol (28 here)
    assert ticker["cut"] == [], ticker
    assert not ticker["pageOverflow"]
    assert "Binance not delivering" in steps["health_reason"]
    assert "crypto from simulated" in steps["health_reason"]
    spreads = steps["spreads"]
    assert len(spreads["btc"].split(".")[1]) == len(spreads["btcPrice"].split(".")[1]), spreads
    assert len(spreads["eurusd"].split(".")[1]) == 5, spreads
    assert steps["config_new_fields"]["closeMargin"] != ""
    assert steps["config_new_fields"]["suppressDominated"] is True
    calm = steps["new_rule_calm"]
    assert calm["name"] == calm["jsonName"] == "threshold rule", calm
    assert (calm["red"], calm["invalid"]) == (0, 0), calm
    assert steps["p95_note"] >= 1
    cancelled = steps["cancelled_task"]
    assert cancelled["bars"] == 0, cancelled
    assert cancelled["message"] == "Cancelled", cancelled
    assert "105 rows" not in cancelled["message"]
    assert cancelled["args"].startswith("symbol BTCUSDT · since 20"), cancelled
    assert steps["since_input_type"] == "datetime-local"
    task = steps["task"]
    assert not task["rawJson"], task
    assert task["previewRows"] >= 1
    assert task["download"].endswith(".csv")
    assert task["args"] == f"symbol {RULE_SYMBOL}"
    assert steps["theme"] == "light"
    recovered = steps["recovered"]
    assert recovered["rowsAfter"] == recovered["unique"] == recovered["rowsBefore"]
    assert recovered["states"][-1] == "connected"
    assert any(state != "connected" for state in recovered["states"]), recovered["states"]
    assert result["seconds"] < 120
    assert len(result["screenshots"]) >= 7


@pytest.mark.timeout(180)
def test_every_page_explains_a_missing_backend(
    built_frontend: Path, start_service: Callable[..., HttpService], redis_url: str
) -> None:
    """No service behind the gateway: each page shows the gateway's message, none crashes."""
    closed = f"http://127.0.0.1:{free_port()}"
    env = {"REDIS_URL": redis_url, "DASHBOARD_DIST": str(built_frontend), "HEALTH_CHECK_TIMEOUT": "1"}
    env |= {f"{name}_URL": closed for name in ("PRICE_FEED", "ARBITRAGE", "CEP_ENGINE", "TASKS", "HEALTH")}
    gateway = start_service("gateway", "ascep.gateway", env)
    done = subprocess.run(
        ["node", str(FRONTEND / "e2e" / "errors.e2e.mjs")],
        cwd=FRONTEND,
        env={**os.environ, "BASE_URL": gateway.url, "SCREENSHOT_DIR": str(SCREENSHOTS)}
        | {"CHROMIUM_PATH": CHROMIUM},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"], f"{result.get('error')}\n{done.stderr[-3000:]}"
    assert result["pageErrors"] == []
    pages = result["pages"]
    logger.info("alerts per page: %s", json.dumps(pages, indent=1))
    for page in ("Prices", "Arbitrage", "Rules", "Tasks"):
        assert any("is unavailable" in text for text in pages[page]), (page, pages[page])
    assert any("unavailable" in text.lower() for text in pages["Overview"]), pages["Overview"]
