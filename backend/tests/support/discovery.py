"""Helpers for discovery tests: a gateway with a custom registration, announcing echo instances."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import requests

from support.stack import UPSTREAM_SCRIPT

_LAUNCH = """
from ascep.common.asyncmode import prepare_async_mode
prepare_async_mode()
from ascep.service_registry import service_registry
{line}
from ascep.gateway.__main__ import main
main()
"""


def gateway_command(tmp_path: Path, line: str) -> list[str]:
    """``python <script>``: the gateway with ``line`` (a ``service_registry.register_service``) added."""
    script = tmp_path / f"gateway_{abs(hash(line))}.py"
    script.write_text(_LAUNCH.format(line=line))
    return [sys.executable, str(script)]


def echo_command() -> list[str]:
    return [sys.executable, str(UPSTREAM_SCRIPT)]


def announce_env(redis_url: str, service: str, **extra: str) -> dict[str, str]:
    """Environment of an echo upstream that announces itself as an instance of ``service``."""
    return {"REDIS_URL": redis_url, "ANNOUNCE_AS": service, **extra}


def instances_of(gateway_url: str, service: str) -> list[dict[str, Any]]:
    """The instances ``GET /api/services`` lists for ``service``."""
    listing = requests.get(f"{gateway_url}/api/services", timeout=5).json()["services"]
    return next(s for s in listing if s["name"] == service)["instances"]
