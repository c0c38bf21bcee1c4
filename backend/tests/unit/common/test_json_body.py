"""``json_body()``: every service's JSON endpoints refuse bad bodies with the same envelope."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient

from ascep.common.web import json_body
from support.probe_app import probe_app


def make_app(**config: Any) -> Flask:
    app = probe_app({"TESTING": True, **config})

    @app.post("/echo")
    def echo() -> Any:
        return jsonify({"body": json_body()})

    return app


@pytest.fixture
def client() -> FlaskClient:
    return make_app().test_client()


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_a_good_body_is_parsed(client: FlaskClient) -> None:
    response = client.post("/echo", json={"a": [1, 2]})
    assert response.status_code == 200
    assert response.json == {"body": {"a": [1, 2]}}


def test_a_deep_body_is_a_400_envelope_naming_the_limit(client: FlaskClient) -> None:
    response = client.post("/echo", data=deep(1_000), content_type="application/json")
    assert response.status_code == 400
    body = response.json
    assert body["error"]["code"] == "BAD_REQUEST"
    assert body["error"]["details"]["max_depth"] == 32
    assert body["request_id"]


def test_the_depth_limit_is_a_setting() -> None:
    client = make_app(MAX_JSON_DEPTH="3").test_client()
    assert client.post("/echo", data=deep(3), content_type="application/json").status_code == 200
    response = client.post("/echo", data=deep(4), content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"]["details"]["max_depth"] == 3


def test_a_body_over_the_size_limit_is_a_413() -> None:
    client = make_app(MAX_JSON_BODY_BYTES=100).test_client()
    assert client.post("/echo", json={"x": "a" * 80}).status_code == 200
    response = client.post("/echo", json={"x": "a" * 200})
    assert response.status_code == 413
    assert response.json["error"]["details"]["max_bytes"] == 100


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("nope", "text/plain"),
        ("nope", "application/json"),
        ("", "application/json"),
        ("[NaN]", "application/json"),
    ],
)
def test_not_json_is_a_400_envelope(client: FlaskClient, data: str, content_type: str) -> None:
    response = client.post("/echo", data=data, content_type=content_type)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "BAD_REQUEST"
