"""The API documentation pages in real headless Chromium, against the whole platform (real processes).

``/docs`` (Swagger UI) renders the platform's operations and a "Try it out" call to
``GET /api/prices`` succeeds through the gateway; ``/redoc`` renders too; the pages load nothing
from outside the gateway and log no error (a CSP violation would be one). The browser part is
``frontend/e2e/apidocs.e2e.mjs``; screenshots land in ``artifacts/screenshots/``.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from support.frontend import FRONTEND, ROOT, ensure_build
from support.full_stack import Platform, running_platform
from support.polling import wait_for
from support.redis_server import RedisServer

pytestmark = pytest.mark.integration
logger = logging.getLogger(__name__)

SCRIPT = FRONTEND / "e2e" / "apidocs.e2e.mjs"
SCREENSHOTS = ROOT / os.environ.get("ASCEP_SCREENSHOT_DIR", "artifacts/screenshots")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def platform(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)")
    dist = ensure_build()
    with redis_server.client() as client:
        client.flushall()
    overrides = {"DASHBOARD_DIST": str(dist)}
    with running_platform(redis_server.url, tmp_path_factory.mktemp("apidocs"), overrides) as started:
        yield started


def _browse(base_url: str) -> dict[str, Any]:
    done = subprocess.run(
        ["node", str(SCRIPT)],
        cwd=FRONTEND,
        env={
            **os.environ,
            "BASE_URL": base_url,
            "SCREENSHOT_DIR": str(SCREENSHOTS),
            "CHROMIUM_PATH": CHROMIUM,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"the browser script printed no result:\n{done.stderr[-6000:]}"
    result: dict[str, Any] = json.loads(lines[-1])
    assert result["ok"], f"{result.get('error')}\n{done.stderr[-6000:]}"
    return result


@pytest.mark.timeout(240)
def test_swagger_ui_renders_the_platform_and_try_it_out_works(platform: Platform) -> None:
    url = platform.gateway.url

    def prices_and_every_service_described() -> bool:
        services = requests.get(url + "/api/openapi.json", timeout=5).json()["info"]["x-ascep-services"]
        prices = requests.get(url + "/api/prices", timeout=5).json()
        return all(s["state"] == "fresh" for s in services.values()) and prices["total_pairs"] > 0

    wait_for(prices_and_every_service_described, timeout=30, message="documents fetched and prices flowing")
    result = _browse(url)
    steps = result["steps"]
    logger.info("browser result: %s", json.dumps(result, indent=1))
    assert steps["docs_status"] == 200
    assert "script-src 'self'" in steps["docs_csp"]
    assert steps["operations"] > 40
    assert {"gateway", "price_feed", "arbitrage", "cep_engine", "tasks", "health"} <= set(steps["tags"])
    assert steps["has_prices"]
    assert steps["has_rules"]
    assert steps["try_it_out_status"] == "200"
    assert steps["try_it_out_has_prices"]
    assert steps["redoc_status"] == 200
    assert steps["redoc_rendered"]
    assert result["foreignRequests"] == [], "the pages must load nothing from outside the gateway"
    assert result["consoleErrors"] == [], result["consoleErrors"]
