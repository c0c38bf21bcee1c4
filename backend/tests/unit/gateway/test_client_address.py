"""The client address: X-Forwarded-For only from trusted proxies, read from the right; /64 for IPv6."""

from __future__ import annotations

import pytest

from ascep.common.errors import ConfigError
from ascep.gateway.client_address import ClientAddresses, limit_key, parse_trusted

PROXIES = ClientAddresses(parse_trusted(["10.0.0.0/8", "127.0.0.1", "::1"]))


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    nobody = ClientAddresses()
    assert nobody.resolve("192.0.2.1", ["203.0.113.9"]) == "192.0.2.1"
    assert (
        nobody.from_environ({"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"})
        == "192.0.2.1"
    )


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("192.0.2.1", ["203.0.113.9"], "192.0.2.1"),  # untrusted peer: its header is not believed
        ("10.1.2.3", ["203.0.113.9"], "203.0.113.9"),
        ("10.1.2.3", ["1.1.1.1, 203.0.113.9"], "203.0.113.9"),  # the client's own prefix is not read
        ("10.1.2.3", ["1.1.1.1, 203.0.113.9, 10.0.0.7"], "203.0.113.9"),  # past trusted hops
        ("10.1.2.3", ["1.1.1.1", "203.0.113.9"], "203.0.113.9"),  # repeated headers, in order
        ("10.1.2.3", ["10.0.0.5, 10.0.0.7"], "10.0.0.5"),  # all trusted: the leftmost
        ("10.1.2.3", ["garbage, 10.0.0.7"], "10.0.0.7"),  # garbage ends the walk at the last good one
        ("10.1.2.3", ["203.0.113.9:4711"], "203.0.113.9"),  # a port some proxies add
        ("10.1.2.3", ["[2001:db8::1]:443"], "2001:db8::1"),
        ("10.1.2.3", ["::ffff:198.51.100.4"], "198.51.100.4"),
        ("10.1.2.3", [], "10.1.2.3"),
        ("::1", ["2001:db8::5"], "2001:db8::5"),
    ],
)
def test_trusted_proxies(peer: str, forwarded: list[str], client: str) -> None:
    assert PROXIES.resolve(peer, forwarded) == client


def test_the_environ_and_the_proxied_headers_agree() -> None:
    raw = [("Host", "x"), ("X-Forwarded-For", "1.1.1.1"), ("x-forwarded-for", "203.0.113.9")]
    assert PROXIES.from_environ({"REMOTE_ADDR": "127.0.0.1", "headers_raw": raw}) == "203.0.113.9"
    assert PROXIES.from_headers("127.0.0.1", raw) == "203.0.113.9"


def test_a_bad_entry_names_the_setting() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_trusted(["10.0.0.0/8", "not-an-ip"])
    assert caught.value.setting == "TRUSTED_PROXIES"


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),  # same /64: the same client
        ("", ""),
    ],
)
def test_limit_key(address: str, key: str) -> None:
    assert limit_key(address) == key
