"""Adding a service is one ``register_service`` line: no other change routes traffic to it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import requests

from support.processes import HttpService

from .conftest import gateway_env

LAUNCH = """
from ascep.common.asyncmode import prepare_async_mode
prepare_async_mode()
from ascep.service_registry import service_registry
{line}
from ascep.gateway.__main__ import main
main()
"""


def write_launcher(tmp_path: Path, line: str) -> Path:
    script = tmp_path / "gateway_with_new_service.py"
    script.write_text(LAUNCH.format(line=line))
    return script


def test_one_line_routes_a_brand_new_service(
    start_service: Callable[..., HttpService], upstream: HttpService, redis_url: str, tmp_path: Path
) -> None:
    line = (
        f'service_registry.register_service(name="my_service", port={upstream.port}, '
        'endpoints=["/foo", "/bar"], description="My new microservice")'
    )
    script = write_launcher(tmp_path, line)
    gw = start_service("gateway", [sys.executable, str(script)], gateway_env(redis_url, upstream))

    foo = requests.get(f"{gw.url}/api/foo/deep/path?x=1", timeout=5)
    assert foo.status_code == 200
    assert foo.json()["path"] == "/foo/deep/path"
    assert foo.json()["query"] == "x=1"
    assert requests.post(f"{gw.url}/api/bar", data=b"1", timeout=5).json()["method"] == "POST"

    listing = requests.get(f"{gw.url}/api/services", timeout=5).json()["services"]
    mine = next(s for s in listing if s["name"] == "my_service")
    assert mine["description"] == "My new microservice"
    assert mine["endpoints"] == ["/foo", "/bar"]
    assert requests.get(f"{gw.url}/api/latency?service=my_service", timeout=5).status_code == 200


def test_a_bad_line_stops_the_gateway_naming_the_argument(tmp_path: Path) -> None:
    line = (
        'service_registry.register_service(name="my_service", port=99999, '
        'endpoints=["/foo"], description="x")'
    )
    script = write_launcher(tmp_path, line)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "register_service(port=...)" in result.stderr
    assert "99999" in result.stderr


def test_a_clashing_endpoint_stops_the_gateway(tmp_path: Path) -> None:
    line = (
        'service_registry.register_service(name="copycat", port=5099, endpoints=["/prices"], description="x")'
    )
    result = subprocess.run(
        [sys.executable, str(write_launcher(tmp_path, line))], capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0
    assert "already claimed by 'price_feed'" in result.stderr
