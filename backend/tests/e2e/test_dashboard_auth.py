"""Signing in to the dashboard, in real headless Chromium against a real gateway (issue 17).

``AUTH_MODE=required``: the test configures the gateway's ``JWT_SECRET``, mints an admin JWT with
PyJWT (HS256, ``sub``/``exp``/``scope="admin"``), creates a read-only user through the admin API,
then ``frontend/e2e/auth.e2e.mjs`` drives the browser: the sign-in form comes first, a wrong
password shows the server's message, the right one opens the page with live prices over
Socket.IO, a write shows the 403 inline with the missing scope, a reload keeps the session
(``sessionStorage``), sign-out returns to the form; then the gateway restarts with another secret
and the socket's refused handshake brings the form back ("session expired"), and signing in again
reconnects with the new token. No credential ever appears in a URL or a console line.

``AUTH_MODE=off``: the dashboard as before, no form, no ``Authorization`` header at all.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from support.frontend import FRONTEND, ROOT, ensure_build
from support.ports import free_port
from support.processes import HttpService

pytestmark = pytest.mark.integration
logger = logging.getLogger(__name__)

SCRIPT = FRONTEND / "e2e" / "auth.e2e.mjs"
SCREENSHOTS = ROOT / os.environ.get("ASCEP_SCREENSHOT_DIR", "artifacts/screenshots")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
USERNAME = "alice"


@pytest.fixture(scope="module")
def built_frontend() -> Path:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)")
    return ensure_build()


def _services(
    start_service: Callable[..., HttpService], redis_url: str, *, arbitrage: bool
) -> dict[str, str]:
    """The gateway's environment: a price feed (live prices), the arbitrage detector when asked
    (a configuration to try writing), every other service on a closed port."""
    common = {"REDIS_URL": redis_url, "LOG_LEVEL": "INFO"}
    feed = {"PRICE_SOURCES": "simulated", "SIMULATED_TICK_RATE": "5"}
    price_feed = start_service("price_feed", "ascep.price_feed", {**common, **feed})
    closed = f"http://127.0.0.1:{free_port()}"
    detector = start_service("arbitrage", "ascep.arbitrage", common).url if arbitrage else closed
    return {
        **common,
        "PRICE_FEED_URL": price_feed.url,
        "ARBITRAGE_URL": detector,
        "CEP_ENGINE_URL": closed,
        "TASKS_URL": closed,
        "HEALTH_URL": closed,
        "HEALTH_CHECK_TIMEOUT": "1",
    }


def _start_gateway(
    start_service: Callable[..., HttpService], name: str, env: dict[str, str], port: int | None = None
) -> HttpService:
    """A gateway with auth required, once it answers ``/api/auth/config`` (public by contract; a
    liveness probe may not be, under auth) with ``mode: required``."""
    gateway = start_service(name, "ascep.gateway", env, port=port, wait_path=None)
    holder: list[requests.Response] = []

    def answering() -> bool:
        holder[:] = [requests.get(f"{gateway.url}/api/auth/config", timeout=1)]
        return True

    gateway.wait_until(answering, timeout=30, what="answering /api/auth/config")
    answer = holder[0]
    assert answer.status_code == 200, (
        f"GET /api/auth/config answered {answer.status_code}: this gateway lacks issue 17's access "
        f"endpoints ({answer.text[:200]})"
    )
    assert answer.json()["mode"] == "required", answer.text
    return gateway


def _admin_token(secret: str) -> str:
    now = int(time.time())
    claims = {"sub": "e2e-admin", "iat": now, "exp": now + 300, "scope": "admin"}
    return jwt.encode(claims, secret, algorithm="HS256")


def _browse(
    gateway: HttpService, env: dict[str, str], on_rotate: Callable[[], None] | None = None
) -> dict[str, Any]:
    """Run the browser script; answer its ``ROTATE`` requests; return its JSON result."""
    node = subprocess.Popen(
        ["node", str(SCRIPT)],
        cwd=FRONTEND,
        env={**os.environ, "BASE_URL": gateway.url, "SCREENSHOT_DIR": str(SCREENSHOTS)}
        | {"CHROMIUM_PATH": CHROMIUM, **env},
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
            if line.strip() == "ROTATE":
                assert on_rotate is not None, "the script asked for a rotation this test does not do"
                on_rotate()
                node.stdin.write("rotated\n")
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
    assert result["ok"], f"{result.get('error')}\n{log}\n--- gateway log ---\n{gateway.log_text()[-4000:]}"
    logger.info("browser result: %s", json.dumps(result, indent=1))
    return result


@pytest.mark.timeout(240)
def test_sign_in_required(
    built_frontend: Path, start_service: Callable[..., HttpService], redis_url: str
) -> None:
    env = _services(start_service, redis_url, arbitrage=True)
    secret = secrets.token_hex(32)  # no usable default: a fresh secret for this gateway only
    gateway_env = {
        **env,
        "DASHBOARD_DIST": str(built_frontend),
        "AUTH_MODE": "required",
        "JWT_ALGORITHMS": "HS256",
        "JWT_SECRET": secret,
    }
    gateway = _start_gateway(start_service, "gateway", gateway_env)
    password = secrets.token_urlsafe(18)
    created = requests.post(
        f"{gateway.url}/api/gateway/users",
        json={"username": USERNAME, "password": password, "scopes": ["read"]},
        headers={"Authorization": f"Bearer {_admin_token(secret)}"},
        timeout=5,
    )
    assert created.status_code == 201, created.text

    gateways = [gateway]

    def rotate() -> None:
        """Restart the gateway on the same port with another secret: every issued token dies."""
        gateways[-1].stop()
        rotated = {**gateway_env, "JWT_SECRET": secrets.token_hex(32)}
        gateways.append(_start_gateway(start_service, "gateway-rotated", rotated, port=gateway.port))

    started = time.monotonic()
    result = _browse(
        gateway,
        {"AUTH_MODE": "required", "E2E_USERNAME": USERNAME, "E2E_PASSWORD": password},
        on_rotate=rotate,
    )
    steps = result["steps"]
    logger.info("sign-in e2e: %.1f s", time.monotonic() - started)

    assert steps["form_first"]
    assert "UNAUTHORIZED" in steps["wrong_password_error"], steps["wrong_password_error"]
    assert steps["wrong_password_stored"] is None
    assert steps["wrong_password_still_form"]
    assert steps["prices"]["ticking"]
    assert steps["signed_in_as"] == USERNAME
    assert steps["scopes"] == ["read"]
    assert steps["token_stored_in_session"]
    assert steps["token_in_local_storage"] is False
    assert "lacks scope write" in steps["forbidden_message"], steps["forbidden_message"]
    assert steps["still_signed_in_after_403"]
    assert steps["after_reload"]["ticking"]
    assert steps["after_reload_no_form"]
    assert steps["after_reload_signed_in_as"] == USERNAME
    assert steps["signed_out_notice"] == "You are signed out."
    assert steps["signed_out_stored"] is None
    assert "expired" in steps["expired_notice"], steps["expired_notice"]
    assert steps["expired_stored"] is None
    assert steps["after_rotation"]["ticking"]  # the socket reconnected with the new token
    assert steps["secret_in_url"] == []
    assert steps["secret_in_console"] == []
    assert result["pageErrors"] == []


@pytest.mark.timeout(120)
def test_no_sign_in_when_auth_is_off(
    built_frontend: Path, start_service: Callable[..., HttpService], redis_url: str
) -> None:
    env = _services(start_service, redis_url, arbitrage=False)
    gateway = start_service(
        "gateway", "ascep.gateway", {**env, "DASHBOARD_DIST": str(built_frontend), "AUTH_MODE": "off"}
    )
    steps = _browse(gateway, {"AUTH_MODE": "off"})["steps"]
    assert steps["prices"]["ticking"]
    assert steps["no_form"]
    assert steps["no_account_menu"]
    assert steps["authorization_headers"] == 0
    assert steps["stored"]["session"] is None
    assert steps["secret_in_url"] == []
