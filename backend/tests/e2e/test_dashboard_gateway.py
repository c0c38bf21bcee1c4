"""The dashboard's Gateway page in real headless Chromium against two real gateway processes.

``AUTH_MODE=required``: the test mints an admin JWT (PyJWT), creates an admin user and a
read-only user through ``POST /api/gateway/users``; ``frontend/e2e/gateway.e2e.mjs`` signs in
with the password (a real token from the token endpoint) on gateway A while this test acts on
gateway B, answering the script's requests on stdin:

* the instances of ``svc`` (static, versions v1 and v2) and ``ledger`` (one instance) show;
  ``ledger``'s upstream is killed and calls through **B** fail: its breaker opens on the page
  served by **A** (the ``circuit_state`` event), and its health falls (rise/fall history);
* a split created and edited in the browser (A) is in force on B within a second — B routes a
  canary user to v2 — and a split changed through B shows on the page;
* a rate-limit override set in the browser limits calls through B, and the client B refused is
  listed under "limited right now";
* an API key created in the browser works on B, and once revoked in the browser B refuses it;
* the admin user deleted mid-session: the next call's 401 brings the form over the page, which
  keeps what was typed; signing in again gives it back;
* the read-only user sees the admin controls disabled, with the reason.
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

from support.discovery import echo_command, gateway_command
from support.frontend import FRONTEND, ROOT, ensure_build
from support.ports import free_port
from support.processes import HttpService

pytestmark = pytest.mark.integration
logger = logging.getLogger(__name__)

SCRIPT = FRONTEND / "e2e" / "gateway.e2e.mjs"
SCREENSHOTS = ROOT / os.environ.get("ASCEP_SCREENSHOT_DIR", "artifacts/screenshots")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ADMIN, VIEWER = "ops-admin", "viewer"
PASSWORD = "correct horse battery staple"

LINES = (
    "from ascep.gateway.routing import Instance\n"
    "from ascep.gateway.upstreams.policy import BreakerPolicy, UpstreamPolicy\n"
    'service_registry.register_service(name="svc", port=5099, endpoints=["/svc"], instances=['
    'Instance("127.0.0.1:{v1}", version="v1"), Instance("127.0.0.1:{v2}", version="v2")])\n'
    # Opens after 5 failed calls and stays open for the rest of the test; no retry elsewhere.
    'service_registry.register_service(name="ledger", port=5098, endpoints=["/ledger"], '
    'instances=["127.0.0.1:{solo}"], policy=UpstreamPolicy('
    "breaker=BreakerPolicy(minimum_volume=5, open_s=120), max_attempts=1))"
)


@pytest.fixture(scope="module")
def built_frontend() -> Path:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)")
    return ensure_build()


class Driver:
    """Acts on gateway B (and the upstreams) when the browser script asks."""

    def __init__(self, b: HttpService, solo: HttpService, admin_token: str) -> None:
        self.b = b
        self.solo = solo
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {admin_token}"

    def handle(self, command: str, arg: str) -> dict[str, Any]:
        return getattr(self, command.lower())(arg)

    def trip(self, _: str) -> dict[str, Any]:
        """Kill ledger's only upstream, then call it through B until B's breaker refuses."""
        self.solo.stop()
        statuses = [self.http.get(f"{self.b.url}/api/ledger/x", timeout=5).status_code for _ in range(8)]
        codes = []
        for _ in range(3):
            answer = self.http.get(f"{self.b.url}/api/ledger/x", timeout=5)
            codes.append(answer.json().get("error", {}).get("code"))
        return {"statuses": statuses, "codes": codes}

    def split_on_b(self, _: str) -> dict[str, Any]:
        """The split the browser saved on A: in force on B within a second, canary users on v2."""
        started = time.monotonic()
        seen: dict[str, Any] = {}
        while time.monotonic() - started < 3:
            seen = self.http.get(f"{self.b.url}/api/gateway/splits/svc", timeout=5).json()
            if seen.get("arms", [{}, {}])[1].get("basis_points") == 10_000:
                break
            time.sleep(0.05)
        applied_after = time.monotonic() - started
        served = {
            self.http.get(f"{self.b.url}/api/svc", headers={"X-User-ID": f"u{i}"}, timeout=5).json()[
                "version"
            ]
            for i in range(10)
        }
        return {
            "arms": seen.get("arms"),
            "applied_after_s": round(applied_after, 3),
            "served": sorted(served),
        }

    def split_from_b(self, _: str) -> dict[str, Any]:
        body = {"arms": [{"version": "v1", "basis_points": 7500}, {"version": "v2", "basis_points": 2500}]}
        answer = self.http.put(f"{self.b.url}/api/gateway/splits/svc", json=body, timeout=5)
        return {"status": answer.status_code}

    def limit_on_b(self, _: str) -> dict[str, Any]:
        """Calls through B under the override the browser set on A (ledger: 1/1h)."""
        started = time.monotonic()
        statuses: list[int] = []
        while time.monotonic() - started < 3:  # until B has the override (within a second)
            statuses = [self.http.get(f"{self.b.url}/api/ledger/x", timeout=5).status_code for _ in range(3)]
            if 429 in statuses:
                break
            time.sleep(0.2)
        return {"statuses": statuses}

    def key_on_b(self, key: str) -> dict[str, Any]:
        answer = requests.get(f"{self.b.url}/api/users/me", headers={"X-API-Key": key}, timeout=5)
        return {"status": answer.status_code, "subject": answer.json().get("subject")}

    def revoked_on_b(self, key: str) -> dict[str, Any]:
        started = time.monotonic()
        status = 0
        while time.monotonic() - started < 3:
            status = requests.get(
                f"{self.b.url}/api/users/me", headers={"X-API-Key": key}, timeout=5
            ).status_code
            if status == 401:
                break
            time.sleep(0.05)
        return {"status": status, "after_s": round(time.monotonic() - started, 3)}

    def expire(self, _: str) -> dict[str, Any]:
        """End the browser's session from outside: delete its user (its tokens stop within 1 s)."""
        return {"deleted": self.http.delete(f"{self.b.url}/api/gateway/users/{ADMIN}", timeout=5).status_code}

    def recreate(self, _: str) -> dict[str, Any]:
        """The user again (once the page showed the form), so that signing in works."""
        again = self.http.post(
            f"{self.b.url}/api/gateway/users",
            json={"username": ADMIN, "password": PASSWORD, "scopes": ["admin"]},
            timeout=10,
        ).status_code
        return {"created": again}


def _run_browser(a: HttpService, driver: Driver) -> dict[str, Any]:
    node = subprocess.Popen(
        ["node", str(SCRIPT)],
        cwd=FRONTEND,
        env={**os.environ, "BASE_URL": a.url, "SCREENSHOT_DIR": str(SCREENSHOTS), "CHROMIUM_PATH": CHROMIUM}
        | {"ADMIN_USER": ADMIN, "VIEWER_USER": VIEWER, "PASSWORD": PASSWORD},
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
            if line.startswith("{"):
                result = json.loads(line)
            elif line.strip():
                command, _, arg = line.strip().partition(" ")
                node.stdin.write(json.dumps(driver.handle(command, arg)) + "\n")
                node.stdin.flush()
        node.wait(timeout=30)
    finally:
        if node.poll() is None:
            node.kill()
            node.wait(timeout=5)
        reader.join(timeout=5)
        for pipe in (node.stdin, node.stdout, node.stderr):
            if pipe is not None:
                pipe.close()
    log = "".join(stderr)[-8000:]
    assert result is not None, f"the browser script printed no result:\n{log}"
    assert result["ok"], f"{result.get('error')}\n{log}"
    return result


@pytest.mark.timeout(240)
def test_gateway_page_against_two_gateways(
    built_frontend: Path, start_service: Callable[..., HttpService], redis_url: str, tmp_path: Path
) -> None:
    v1 = start_service("echo_v1", echo_command(), {"ECHO_VERSION": "v1"})
    v2 = start_service("echo_v2", echo_command(), {"ECHO_VERSION": "v2"})
    solo = start_service("echo_ledger", echo_command(), {"ECHO_VERSION": "v1"})
    secret = secrets.token_urlsafe(48)
    closed = f"http://127.0.0.1:{free_port()}"
    env = {
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "INFO",
        "AUTH_MODE": "required",
        "JWT_SECRET": secret,
        "DASHBOARD_DIST": str(built_frontend),
        "HEALTH_CHECK_TIMEOUT": "1",
        **{f"{name}_URL": closed for name in ("PRICE_FEED", "ARBITRAGE", "CEP_ENGINE", "TASKS", "HEALTH")},
    }
    command = gateway_command(tmp_path, LINES.format(v1=v1.port, v2=v2.port, solo=solo.port))
    a, b = (start_service(f"gateway_{n}", command, env, wait_path="/api/auth/config") for n in "ab")

    now = int(time.time())
    token = jwt.encode({"sub": "e2e-setup", "iat": now, "exp": now + 600, "scope": "admin"}, secret, "HS256")
    for username, scopes in ((ADMIN, ["admin"]), (VIEWER, ["read"])):
        created = requests.post(
            f"{a.url}/api/gateway/users",
            json={"username": username, "password": PASSWORD, "scopes": scopes},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert created.status_code == 201, created.text

    result = _run_browser(a, Driver(b, solo, token))
    steps = result["steps"]
    logger.info("browser result: %s", json.dumps(result, indent=1))

    assert result["consoleErrors"] == [], result["consoleErrors"]
    assert steps["signed_in_as"] == ADMIN
    assert set(steps["instances"]["svc"]) == {"v1", "v2"}
    assert steps["instances"]["sources"] == ["static"]
    trip = steps["trip"]
    assert trip["codes"] == ["CIRCUIT_OPEN"] * 3, trip  # B refuses at once...
    assert steps["breaker_on_page"] == "open"  # ...and the page served by A shows it, live
    assert "failed" in steps["breaker_reason"]
    assert steps["split_on_b"]["arms"][1]["basis_points"] == 10_000
    assert steps["split_on_b"]["applied_after_s"] < 1.0
    assert steps["split_on_b"]["served"] == ["v2"]  # in force: every user on the canary
    assert steps["split_from_b_on_page"] == "25 %"
    assert 429 in steps["limit_on_b"]["statuses"]
    assert steps["limited_listed"].startswith("sub:e2e-setup")
    assert steps["key_on_b"] == {"status": 200, "subject": steps["key_id_subject"]}
    assert steps["secret_shown_once"] is True
    assert steps["revoked_on_b"]["status"] == 401
    assert steps["expired"]["form_over_page"] is True
    assert steps["expired"]["draft_after_sign_in"] == "draft key name"
    assert steps["fell"] == "unhealthy"  # the killed instance's rise/fall history
    assert steps["viewer"]["disabled"] is True
    assert steps["viewer"]["reason"] == f"Needs scope admin: {VIEWER} has read."
    assert result["seconds"] < 150
