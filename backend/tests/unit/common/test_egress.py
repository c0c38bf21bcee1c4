"""The egress allow-list (``WEBHOOK_ALLOWED_HOSTS``): entries, hosts as written, resolved addresses.

DNS is the one stand-in: there is no DNS server on this machine, so names are resolved by a
function injected into the policy (the same seam the real resolver, ``getaddrinfo``, plugs into).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence

import pytest

from ascep.common.egress import EgressPolicy, EgressRefused, non_public_reason

PUBLIC = EgressPolicy.from_entries([])


def resolver(table: dict[str, Sequence[str]]) -> Callable[[str, int], Sequence[str]]:
    """A resolver answering from ``table`` (unknown names fail as getaddrinfo does)."""

    def resolve(host: str, _port: int) -> Sequence[str]:
        if host not in table:
            raise OSError(f"[Errno -2] Name or service not known: {host}")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.1.1", "link-local"),
        ("169.254.169.254", "metadata"),
        ("169.254.170.2", "metadata"),
        ("100.100.100.200", "metadata"),
        ("192.0.0.192", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "this network"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved"),
        ("198.18.0.1", "benchmarking"),
        ("192.0.2.1", "documentation"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "unique-local"),
        ("fd12:3456::1", "unique-local"),
        ("ff02::1", "multicast"),
        ("ff0e::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped: judged by the IPv4 address it carries
        ("::ffff:169.254.169.254", "metadata"),
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("2002:7f00:1::", "6to4"),
        ("2001::1", "Teredo"),
        ("2001:db8::1", "documentation"),
        ("::127.0.0.1", "reserved"),  # IPv4-compatible (deprecated): outside 2000::/3
        ("100::1", "reserved"),
    ],
)
def test_every_non_public_address_is_named(address: str, reason: str) -> None:
    why = non_public_reason(ipaddress.ip_address(address))
    assert why is not None
    assert reason in why


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "64:ff9b::808:808"])
def test_public_addresses_pass(address: str) -> None:
    assert non_public_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.0.0.1",
        "169.254.169.254",
        "::1",
        "::ffff:127.0.0.1",
        "fd00:ec2::254",
        "2130706433",  # decimal 127.0.0.1
        "0177.0.0.1",  # octal
        "0x7f.1",  # hex, short form
        "127.1",
        "0",
        "localhost",
        "LOCALHOST.",
        "app.localhost",
        "metadata.google.internal",
        "instance-data",
        "exa mple.com",
        "-bad.example",
    ],
)
def test_the_default_refuses_internal_hosts_as_written(host: str) -> None:
    with pytest.raises(EgressRefused) as refused:
        PUBLIC.check_host(host)
    assert refused.value.host == host
    assert refused.value.reason


@pytest.mark.parametrize("host", ["hooks.slack.com", "8.8.8.8", "2606:4700::1111", "EXAMPLE.com."])
def test_the_default_admits_public_hosts(host: str) -> None:
    PUBLIC.check_host(host)


def test_a_list_is_strict_unless_it_says_public() -> None:
    strict = EgressPolicy.from_entries(["hooks.example.com", ".corp.example", "203.0.113.0/24", "[::1]"])
    for allowed in ["hooks.example.com", "corp.example", "a.b.corp.example", "203.0.113.9", "::1"]:
        strict.check_host(allowed)
    for refused in ["other.example.com", "xcorp.example", "8.8.8.8", "127.0.0.1"]:
        with pytest.raises(EgressRefused):
            strict.check_host(refused)
    mixed = EgressPolicy.from_entries(["public", "10.1.2.3"])
    mixed.check_host("8.8.8.8")
    mixed.check_host("hooks.slack.com")
    mixed.check_host("10.1.2.3")
    with pytest.raises(EgressRefused, match="private"):
        mixed.check_host("10.1.2.4")


def test_a_listed_address_admits_its_mapped_form_and_loopback_needs_listing() -> None:
    policy = EgressPolicy.from_entries(["127.0.0.1"])
    policy.check_host("127.0.0.1")
    policy.check_host("::ffff:127.0.0.1")  # the same address, written as IPv6
    for host in ["127.0.0.2", "::1", "2130706433", "localhost"]:
        with pytest.raises(EgressRefused):
            policy.check_host(host)


def test_metadata_needs_its_exact_address() -> None:
    wide = EgressPolicy.from_entries(["169.254.0.0/16", "0.0.0.0/0", "fd00::/8"])
    wide.check_host("169.254.1.1")
    for host in ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"]:
        with pytest.raises(EgressRefused, match="metadata"):
            wide.check_host(host)
    EgressPolicy.from_entries(["169.254.169.254"]).check_host("169.254.169.254")


def test_a_listed_name_resolving_to_a_forbidden_address_is_refused_at_resolve_time() -> None:
    policy = EgressPolicy.from_entries(
        ["hooks.example.com"], resolver=resolver({"hooks.example.com": ["127.0.0.1"]})
    )
    policy.check_host("hooks.example.com")  # the name is allowed ...
    with pytest.raises(EgressRefused, match=r"resolves to 127\.0\.0\.1, a loopback address"):
        policy.resolve("hooks.example.com", 443)  # ... its address is not


@pytest.mark.parametrize(
    "answers",
    [
        ["93.184.215.14", "10.0.0.5"],  # one public, one internal: the client could use either
        ["::ffff:169.254.169.254"],
        ["64:ff9b::7f00:1"],  # NAT64 of 127.0.0.1
        ["not-an-address"],
        [],
    ],
)
def test_every_resolved_address_must_pass(answers: list[str]) -> None:
    policy = EgressPolicy.from_entries([], resolver=resolver({"hooks.example.com": answers}))
    with pytest.raises(EgressRefused):
        policy.resolve("hooks.example.com", 80)


def test_resolve_returns_checked_addresses_in_order_and_leaves_dns_failures_to_the_caller() -> None:
    answers = {"hooks.test": ["127.0.0.3", "127.0.0.1", "127.0.0.3"]}
    policy = EgressPolicy.from_entries(["hooks.test", "127.0.0.0/8"], resolver=resolver(answers))
    assert [str(a) for a in policy.resolve("hooks.test", 80)] == ["127.0.0.3", "127.0.0.1"]
    assert [str(a) for a in policy.resolve("127.0.0.9", 80)] == ["127.0.0.9"]  # a literal: no lookup
    with pytest.raises(EgressRefused, match="not in WEBHOOK_ALLOWED_HOSTS"):
        policy.resolve("unlisted.test", 80)  # the name is judged before any lookup
    with pytest.raises(OSError, match="not known"):
        EgressPolicy.from_entries(["public"], resolver=resolver({})).resolve("gone.example.com", 80)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("*", "'public'"),
        ("hooks.example.com:443", "no port"),
        ("https://hooks.example.com", "without a scheme"),
        ("10.0.0.1/8", "host bits set"),
        ("10.0.0.0/33", "not a network"),
        ("2130706433", "not a host name"),
        ("exa mple", "not a host name"),
    ],
)
def test_malformed_entries_are_refused_with_a_reason(entry: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EgressPolicy.from_entries([entry])


def test_describe_shows_the_list_as_understood() -> None:
    policy = EgressPolicy.from_entries(["public", "hooks.test", ".corp.test", "[::1]", "10.0.0.0/8"])
    assert policy.describe() == {
        "public": True,
        "names": ["hooks.test", ".corp.test"],
        "networks": ["::1/128", "10.0.0.0/8"],
    }
    assert EgressPolicy.from_entries(["127.0.0.1"]).describe()["public"] is False
