"""Targets come from the registry mirror (with the gateway's own addresses), plus fixed kinds."""

from __future__ import annotations

import json

from ascep.health.targets import Target, targets_from_registry


def test_registry_entries_become_http_targets_with_their_health_endpoint() -> None:
    mirror = {
        "price_feed": json.dumps(
            {"url": "http://feed:5002/", "health_endpoint": "/health", "description": "x"}
        ),
        "odd": json.dumps({"url": "http://odd:7000", "health_endpoint": "/alive"}),
    }
    targets = {t.name: t for t in targets_from_registry(mirror, "http://gw:5000/")}
    assert targets["price_feed"] == Target("price_feed", "http", "http://feed:5002/health", "x")
    assert targets["odd"].url == "http://odd:7000/alive"
    assert targets["gateway"].url == "http://gw:5000/health"
    assert targets["redis"].kind == "redis"
    assert targets["celery_worker"].kind == "workers"


def test_a_malformed_entry_is_skipped_not_fatal() -> None:
    mirror = {
        "bad": "{not json",
        "missing_url": json.dumps({"port": 1}),
        "ok": json.dumps({"url": "http://a:1"}),
    }
    names = {t.name for t in targets_from_registry(mirror, "http://gw:5000")}
    assert "ok" in names
    assert not names & {"bad", "missing_url"}

