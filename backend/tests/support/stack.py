"""Environment for the real processes of a test stack (gateway, services) on loopback ports."""

from __future__ import annotations

from pathlib import Path

import support
from support.ports import free_port
from support.processes import HttpService

UPSTREAM_SCRIPT = Path(support.__file__).parent / "upstream_server.py"


def gateway_env(redis_url: str, upstream: HttpService, **overrides: str) -> dict[str, str]:
    """Gateway settings for tests: price_feed is the echo upstream, the rest refuse connections.

    Rate limits are off (``RATE_LIMIT=off``, ``RATE_LIMIT_SOCKETIO=off``) unless overridden."""
    closed = f"http://127.0.0.1:{free_port()}"
    env = {
        "REDIS_URL": redis_url,
        "PRICE_FEED_URL": upstream.url,
        "HEALTH_URL": closed,
        "ARBITRAGE_URL": closed,
        "CEP_ENGINE_URL": closed,
        "TASKS_URL": closed,
        "LATENCY_FLUSH_INTERVAL": "0.05",
        "HEALTH_POLL_INTERVAL": "1",
        "HEALTH_CHECK_TIMEOUT": "1",
        "LOG_LEVEL": "INFO",
        # Tests fire many quick requests from 127.0.0.1 (one client to the limiter): limits are
        # off unless a test is about them (it passes RATE_LIMIT=... as an override).
        "RATE_LIMIT": "off",
        "RATE_LIMIT_SOCKETIO": "off",
    }
    env.update(overrides)
    return env
