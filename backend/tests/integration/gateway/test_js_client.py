"""The official JavaScript ``socket.io-client`` (from npm) receives a ``price_update``."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from ascep.common import bus, channels
from support.polling import wait_for
from support.processes import ManagedProcess

JS_DIR = Path(__file__).resolve().parents[2] / "js"


@pytest.fixture(scope="session")
def socketio_client_js() -> Path:
    """``npm ci`` the pinned socket.io-client once per checkout (the lockfile is committed)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node.js and npm are required for the socket.io-client test (Node 20+)")
    if not (JS_DIR / "node_modules" / "socket.io-client").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=JS_DIR, check=True, timeout=300
        )
    return JS_DIR / "receive_price.mjs"


def test_official_js_client_subscribes_and_receives(
    start_gateway, redis_client, socketio_client_js: Path, tmp_path: Path
) -> None:
    gw = start_gateway()
    node = ManagedProcess(
        "node-client",
        ["node", str(socketio_client_js), gw.url, "BTCUSDT"],
        {"PATH": "/usr/bin:/bin"},
        tmp_path,
    )
    node.start()
    try:
        sent = {
            "symbol": "BTCUSDT",
            "price": 97001.5,
            "bid": 97001.0,
            "ask": 97002.0,
            "volume": 3.5,
            "source": "test",
            "timestamp": "2026-11-23T00:00:00.000Z",
            "ts": int(time.time() * 1000),
        }

        def published_and_done() -> bool:
            # Publish until the client (which may still be subscribing) has one and exits.
            bus.publish(redis_client, channels.PRICE_UPDATES, {**sent, "ts": sent["ts"] + 1})
            sent["ts"] += 1
            return not node.alive()

        wait_for(published_and_done, timeout=20, interval=0.1, message="the JS client to receive and exit")
        assert node.process is not None
        assert node.process.returncode == 0, node.log_text()
    finally:
        node.stop()
    lines = [json.loads(line) for line in node.log_text().splitlines() if line.startswith("{")]
    kinds = {line["kind"]: line for line in lines}
    assert kinds["ack"]["ack"]["ok"] is True
    assert kinds["confirmed"]["confirmation"]["symbols"] == ["BTCUSDT"]
    update = kinds["price_update"]["update"]
    assert update["symbol"] == "BTCUSDT"
    assert update["price"] == 97001.5
    assert update["ts"] > 0
