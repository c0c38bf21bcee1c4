"""Every view reads its query string through ``ascep.common.query``: one meaning, one 400 envelope."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, jsonify

from ascep.common.query import choice_arg, float_arg, int_arg, text_arg, time_arg
from ascep.common.web import install_error_handlers, install_request_context


@pytest.fixture
def client() -> Any:
    """An app with the shared error handlers whose one view echoes every reader's answer."""
    app = Flask(__name__)
    install_request_context(app)
    install_error_handlers(app)

    @app.get("/")
    def view() -> Any:
        return jsonify(
            {
                "limit": int_arg("limit", 50, 1, 1000),
                "rule_id": int_arg("rule_id", None, 1, 2**63 - 1),
                "min_spread": float_arg("min_spread", "percent"),
                "status": choice_arg("status", ("open", "closed")),
                "since": time_arg("since"),
                "service": text_arg("service"),
            }
        )

    return app.test_client()


def test_absent_and_empty_are_the_defaults(client: Any) -> None:
    expected = dict.fromkeys(("rule_id", "min_spread", "status", "since", "service")) | {"limit": 50}
    assert client.get("/").get_json() == expected
    empty = "/?limit=&rule_id=&min_spread=&status=&since=&service="
    assert client.get(empty).get_json() == expected


def test_good_values(client: Any) -> None:
    body = client.get(
        "/?limit=7&rule_id=3&min_spread=-0.25&status=open&since=2026-01-02T03:04:05Z&service=cep_engine"
    ).get_json()
    assert body == {
        "limit": 7,
        "rule_id": 3,
        "min_spread": -0.25,
        "status": "open",
        "since": 1767323045000,
        "service": "cep_engine",
    }
    assert client.get("/?since=1700000000000&min_spread=1e-3").get_json()["since"] == 1700000000000


@pytest.mark.parametrize(
    ("query", "parameter", "value"),
    [
        ("limit=0", "limit", "0"),
        ("limit=1001", "limit", "1001"),
        ("limit=abc", "limit", "abc"),
        ("limit=%C2%B2", "limit", "²"),  # str.isdigit() says yes, int() raises: was a 500
        ("limit=1_000", "limit", "1_000"),  # int() takes it
        ("limit=%2B5", "limit", "+5"),
        ("limit=%205", "limit", " 5"),
        ("rule_id=-1", "rule_id", "-1"),
        ("rule_id=99999999999999999999", "rule_id", "99999999999999999999"),
        ("min_spread=lots", "min_spread", "lots"),
        ("min_spread=nan", "min_spread", "nan"),
        ("min_spread=inf", "min_spread", "inf"),
        ("status=pending", "status", "pending"),
        ("since=yesterday", "since", "yesterday"),
        ("since=2026-01-01T00:00:00", "since", "2026-01-01T00:00:00"),
        ("since=%C2%B2", "since", "²"),  # was a 500 too
    ],
)
def test_bad_values_are_a_400_naming_the_parameter(
    client: Any, query: str, parameter: str, value: str
) -> None:
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"]["code"] == "BAD_REQUEST"
    assert body["error"]["details"] == {"parameter": parameter, "value": value}
    assert parameter in body["error"]["message"]


def test_a_plain_mapping_parses_the_same_way() -> None:
    assert int_arg("buckets", None, 1, 360, {"buckets": "60"}) == 60
    assert int_arg("buckets", None, 1, 360, {}) is None
    assert choice_arg("type", ("direct",), {"type": "direct"}) == "direct"
    assert float_arg("x", args={"x": ".5"}) == 0.5
