"""The gateway serves the built dashboard to browsers and keeps answering JSON to API clients."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from support.processes import HttpService

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
INDEX = "<!doctype html><html><body><div id=root></div><script src=/assets/app-1a2b.js></script></body>"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "app-1a2b.js").write_text("console.log('dashboard');")
    (root / "favicon.svg").write_text("<svg/>")
    return root


@pytest.fixture
def gateway_with_dist(start_gateway: Callable[..., HttpService], dist: Path) -> HttpService:
    return start_gateway(DASHBOARD_DIST=str(dist))


def get(service: HttpService, path: str, accept: str | None) -> requests.Response:
    headers = {} if accept is None else {"Accept": accept}
    return requests.get(service.url + path, headers=headers, timeout=5)


def test_browser_gets_the_app_and_api_clients_keep_json(gateway_with_dist: HttpService) -> None:
    page = get(gateway_with_dist, "/", BROWSER)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.text == INDEX
    assert page.headers["Cache-Control"] == "no-cache"
    assert "Accept" in page.headers["Vary"]

    for accept in (None, "*/*", "application/json", "application/json, text/html;q=0.5"):
        info = get(gateway_with_dist, "/", accept)
        assert info.status_code == 200, accept
        assert info.headers["Content-Type"].startswith("application/json"), accept
        assert info.json()["name"] == "ASCEP API Gateway"
        assert "Accept" in info.headers["Vary"]


def test_client_side_routes_and_assets(gateway_with_dist: HttpService) -> None:
    for route in ("/prices", "/arbitrage", "/rules/12"):
        page = get(gateway_with_dist, route, BROWSER)
        assert page.status_code == 200, route
        assert page.text == INDEX

    asset = get(gateway_with_dist, "/assets/app-1a2b.js", "*/*")
    assert asset.status_code == 200
    assert "dashboard" in asset.text
    assert "immutable" in asset.headers["Cache-Control"]
    assert get(gateway_with_dist, "/favicon.svg", "image/*").text == "<svg/>"

    missing = get(gateway_with_dist, "/assets/gone-0000.js", BROWSER)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"

    # An unknown route asked for JSON is still the gateway's 404 envelope.
    not_found = get(gateway_with_dist, "/prices", "application/json")
    assert not_found.status_code == 404
    assert not_found.json()["error"]["code"] == "NOT_FOUND"


def test_api_and_ops_paths_are_untouched(gateway_with_dist: HttpService) -> None:
    for path in ("/health", "/ready", "/status"):
        answer = get(gateway_with_dist, path, BROWSER)
        assert answer.headers["Content-Type"].startswith("application/json"), path
    services = get(gateway_with_dist, "/api/services", BROWSER)
    assert services.status_code == 200
    assert "price_feed" in {s["name"] for s in services.json()["services"]}
    proxied = get(gateway_with_dist, "/api/prices", BROWSER)  # the echo upstream answers
    assert proxied.headers["Content-Type"].startswith("application/json")
    unknown = get(gateway_with_dist, "/api/nothing-here", BROWSER)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "NOT_FOUND"
    assert get(gateway_with_dist, "/metrics", BROWSER).headers["Content-Type"].startswith("text/plain")


def test_without_a_build_the_root_stays_json(
    start_gateway: Callable[..., HttpService], tmp_path: Path
) -> None:
    gateway = start_gateway(DASHBOARD_DIST=str(tmp_path / "no-build-here"))
    info = get(gateway, "/", BROWSER)
    assert info.status_code == 200
    assert info.headers["Content-Type"].startswith("application/json")
    assert info.json()["name"] == "ASCEP API Gateway"
    assert get(gateway, "/prices", BROWSER).status_code == 404
