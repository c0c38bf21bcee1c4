"""ALLOWED_HOSTS matching (Django's rules) and the check every service app runs first."""

from __future__ import annotations

import pytest

from ascep.common.hosts import LOOPBACK_HOSTS, HostAllowList, host_name
from support.probe_app import probe_app

LOOPBACK = HostAllowList.from_patterns(LOOPBACK_HOSTS)


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("localhost", "localhost"),
        ("LocalHost:5000", "localhost"),
        ("127.0.0.1:80", "127.0.0.1"),
        ("[::1]:5000", "[::1]"),
        ("price_feed:5002", "price_feed"),
        ("example.com.", "example.com"),
        ("evil.com@localhost", None),
        ("localhost:5000:1", None),
        ("local host", None),
        ("localhost/x", None),
        ("", None),
    ],
)
def test_host_name_of_a_header(header: str, name: str | None) -> None:
    assert host_name(header) == name


@pytest.mark.parametrize(
    "header", ["localhost", "localhost:5000", "127.0.0.1:61234", "[::1]:5000", "LOCALHOST", None]
)
def test_loopback_names_with_any_port_are_allowed_by_default(header: str | None) -> None:
    assert LOOPBACK.allows(header)


@pytest.mark.parametrize(
    "header", ["evil.com", "evil.com:5000", "localhost.evil.com", "127.0.0.2", "[::2]", "localhost:x", ""]
)
def test_other_hosts_are_refused(header: str) -> None:
    assert not LOOPBACK.allows(header)


def test_domain_patterns_and_the_explicit_wildcard() -> None:
    domain = HostAllowList.from_patterns([".example.com", "api.test"])
    assert domain.allows("example.com")
    assert domain.allows("a.b.example.com:443")
    assert domain.allows("API.test")
    assert not domain.allows("badexample.com")
    assert not domain.allows("api.test.evil")
    anything = HostAllowList.from_patterns(["*"])
    assert anything.allows("whatever.example:1")
    assert not anything.allows_name("whatever.example", wildcard=False), "'*' is not a named host"


def test_every_service_app_refuses_a_foreign_host_with_the_envelope() -> None:
    app = probe_app({"TESTING": True})
    client = app.test_client()
    assert client.get("/health", headers={"Host": "localhost:5001"}).status_code == 200
    refused = client.get("/health", headers={"Host": "evil.com", "X-Request-ID": "rid-1"})
    assert refused.status_code == 400
    assert refused.headers["X-Request-ID"] == "rid-1"
    assert refused.get_json() == {
        "error": {
            "code": "HOST_NOT_ALLOWED",
            "message": "host 'evil.com' is not in ALLOWED_HOSTS",
            "details": {"host": "evil.com", "setting": "ALLOWED_HOSTS"},
        },
        "request_id": "rid-1",
    }


def test_metrics_content_type_names_its_charset_once() -> None:
    app = probe_app({"TESTING": True})
    content_type = app.test_client().get("/metrics").headers["Content-Type"]
    assert content_type.lower().count("charset") == 1, content_type
    assert content_type.startswith("text/plain")
