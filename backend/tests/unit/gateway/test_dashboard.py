"""Content negotiation of the dashboard hooks on a bare Flask app (the gateway test covers the rest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient

from ascep.gateway.dashboard import install_dashboard, resolve_dist_dir

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<html>app</html>")
    (dist / "assets" / "a-1.js").write_text("js")
    (tmp_path / "secret.txt").write_text("nope")
    app = Flask(__name__)
    install_dashboard(app, dist)
    app.add_url_rule("/", "index", lambda: jsonify(name="gateway"))
    app.add_url_rule("/health", "health", lambda: jsonify(status="healthy"))
    return app.test_client()


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER, True),
        ("text/html", True),
        ("application/json, text/html;q=0.9", False),
        ("text/html;q=0", False),
        ("*/*", False),
        (None, False),
    ],
)
def test_root_is_html_only_when_preferred(client: FlaskClient, accept: str | None, html: bool) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get("/", headers=headers, buffered=True)
    assert response.status_code == 200
    assert response.mimetype == ("text/html" if html else "application/json")
    assert "Accept" in response.headers["Vary"]


def test_methods_own_paths_and_traversal(client: FlaskClient) -> None:
    def call(method: str, path: str, accept: str = BROWSER) -> tuple[int, str, bytes]:
        response = client.open(path, method=method, headers={"Accept": accept}, buffered=True)
        return response.status_code, response.mimetype, response.data

    assert call("HEAD", "/prices")[:2] == (200, "text/html")
    assert call("POST", "/")[0] == 405  # only GET/HEAD get the app shell
    assert call("GET", "/health")[1] == "application/json"
    assert call("GET", "/assets/a-1.js", "*/*")[2] == b"js"
    assert call("GET", "/../secret.txt")[2] != b"nope"
    assert call("GET", "/assets/..%2f..%2fsecret.txt")[2] != b"nope"


def test_dist_dir_setting(tmp_path: Path) -> None:
    assert resolve_dist_dir(str(tmp_path)) == tmp_path.resolve()
    assert resolve_dist_dir("").parts[-2:] == ("frontend", "dist")
