"""Where a request made on a user's behalf (a CEP webhook) may go: the egress allow-list.

Why: a webhook URL is written by whoever may create a rule, and the engine POSTs to it from inside
the deployment — without a check, a rule could reach Redis, a service's admin routes, or the cloud
metadata endpoint (``169.254.169.254``: instance credentials). This is server-side request
forgery; the allow-list is the defence.

An allow-list (``WEBHOOK_ALLOWED_HOSTS``) is a list of entries:

* ``public`` — any host whose every address is public (globally routable unicast). An empty list
  means exactly this: webhooks exist to reach outside services, and the public internet is what a
  rule's author could reach from their own machine anyway; the danger is the inside.
* ``hooks.example.com`` — that host name (``.example.com``: it and every subdomain). A name only
  admits the *name*: the addresses it resolves to must still be public, or listed below — so a
  listed name whose DNS record is changed to ``127.0.0.1`` (DNS rebinding) is still refused.
* ``203.0.113.7``, ``[fd00::1]``, ``10.0.0.0/8``, ``fd00::/8`` — addresses and networks. The only
  way to reach a non-public address; a cloud metadata address only when listed as that exact
  address, never through a wider network.

Two checks use the list. :meth:`EgressPolicy.check_host` judges the URL's host as written (when a
rule is created, and again before each delivery): a name or IP literal the list does not admit,
``localhost``-like and metadata names, and numeric forms that are not canonical dotted-quad
(``2130706433``, ``0177.0.0.1``, ``0x7f.1``: resolvers read them as ``127.0.0.1``) are refused.
:meth:`EgressPolicy.resolve` runs at connect time: it resolves the name once, checks *every*
address, and returns them — the caller connects to those addresses, never to the name, so what
was checked is what is reached (:mod:`ascep.common.egress_http`). IPv4-mapped (``::ffff:127.0.0.1``)
and NAT64 addresses are judged by the IPv4 address they carry.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: ``(host, port) -> addresses``: DNS resolution, injectable (tests have no DNS server).
Resolver = Callable[[str, int], Sequence[str]]

PUBLIC = "public"

#: Cloud instance metadata endpoints: reachable only when listed as that exact address.
METADATA_ADDRESSES: frozenset[Address] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle, ...
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.170.23",  # AWS EKS pod identity
        "fd00:ec2::254",  # AWS instance metadata over IPv6
        "fd00:ec2::23",  # AWS EKS pod identity over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (legacy)
    )
)
#: Names that mean "this machine" or "the metadata service" wherever they are resolved.
INTERNAL_NAMES = frozenset(
    (
        "localhost",
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    )
)
_UNLESS_LISTED = "not allowed unless WEBHOOK_ALLOWED_HOSTS lists it"

# IANA special-purpose registries: what is not public, and why (the most specific range first).
# Listed explicitly rather than trusting ``is_global``, which differs between Python releases.
_IPV4_RANGES: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/32", "the unspecified address"),
    ("0.0.0.0/8", "a 'this network' address"),
    ("10.0.0.0/8", "a private address"),
    ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
    ("127.0.0.0/8", "a loopback address"),
    ("169.254.0.0/16", "a link-local address"),
    ("172.16.0.0/12", "a private address"),
    ("192.0.0.0/24", "an IETF protocol address"),
    ("192.0.2.0/24", "a documentation address"),
    ("192.88.99.0/24", "a 6to4 relay address"),
    ("192.168.0.0/16", "a private address"),
    ("198.18.0.0/15", "a benchmarking address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("224.0.0.0/4", "a multicast address"),
    ("255.255.255.255/32", "the broadcast address"),
    ("240.0.0.0/4", "a reserved address"),
)
_IPV6_RANGES: tuple[tuple[str, str], ...] = (
    ("::/128", "the unspecified address"),
    ("::1/128", "a loopback address"),
    ("fe80::/10", "a link-local address"),
    ("fc00::/7", "a unique-local address"),
    ("ff00::/8", "a multicast address"),
    ("64:ff9b:1::/48", "a local NAT64 address"),
    ("2001::/32", "a Teredo tunnel address"),
    ("2001::/23", "an IETF protocol address"),
    ("2001:db8::/32", "a documentation address"),
    ("2002::/16", "a 6to4 tunnel address"),
    ("3fff::/20", "a documentation address"),
    ("5f00::/16", "a segment-routing address"),
)
_SPECIAL: tuple[tuple[Network, str], ...] = tuple(
    (ipaddress.ip_network(net), why) for net, why in (*_IPV4_RANGES, *_IPV6_RANGES)
)
_GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")  # always used with fullmatch
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")


class EgressRefused(Exception):
    """A destination the allow-list does not admit; ``host`` + ``reason`` read as one sentence.

    Deliberately not a ``requests``/``ValueError`` subclass: nothing may mistake it for a network
    failure worth retrying, or an invalid URL.
    """

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{host} {reason}")
        self.host = host
        self.reason = reason


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``getaddrinfo`` gives for ``host`` (TCP), in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)]


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped (``::ffff:a.b.c.d``) or NAT64 address really reaches."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def non_public_reason(address: Address) -> str | None:
    """Why ``address`` is not a public unicast address (``None``: it is)."""
    inner = embedded_ipv4(address)
    if inner is not None:
        why = non_public_reason(inner)
        return None if why is None else f"{why} (it carries the IPv4 address {inner})"
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for network, why in _SPECIAL:
        if address.version == network.version and address in network:
            return why
    if isinstance(address, ipaddress.IPv6Address) and address not in _GLOBAL_UNICAST_V6:
        return "a reserved address"
    return None


def parse_ip(host: str) -> Address | None:
    """``host`` as an IP literal (brackets allowed), or ``None`` when it is not one."""
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


@dataclass(frozen=True)
class EgressPolicy:
    """A compiled allow-list; see the module docstring for what each entry admits."""

    public: bool = True
    names: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    networks: tuple[Network, ...] = ()
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def from_entries(cls, entries: Iterable[str], resolver: Resolver = system_resolver) -> EgressPolicy:
        """Compile ``entries``; :class:`ValueError` naming the first malformed one."""
        cleaned = [e.strip().lower() for e in entries if e.strip()]
        public = not cleaned
        names: set[str] = set()
        suffixes: list[str] = []
        networks: list[Network] = []
        for entry in cleaned:
            if entry == PUBLIC:
                public = True
            elif "://" in entry:
                raise ValueError(f"{entry!r}: an entry is a host, IP address or network, without a scheme")
            elif entry == "*":
                raise ValueError("'*' is not an entry: use 'public' (any public host) or list networks")
            elif "/" in entry:
                try:
                    networks.append(ipaddress.ip_network(entry.replace("[", "").replace("]", "")))
                except ValueError as exc:
                    raise ValueError(f"{entry!r} is not a network ({exc})") from exc
            elif (ip := parse_ip(entry)) is not None:
                networks.append(ipaddress.ip_network(ip))
            elif entry.startswith(".") and _NAME.fullmatch(entry[1:].removesuffix(".")):
                suffixes.append(entry.removesuffix("."))
            elif _NAME.fullmatch(entry.removesuffix(".")) and not _is_numeric(entry):
                names.add(entry.removesuffix("."))
            else:
                raise ValueError(f"{entry!r} is not a host name, IP address or network (no port, no scheme)")
        return cls(public, frozenset(names), tuple(suffixes), tuple(networks), resolver)

    # --- the URL's host, as written ------------------------------------------------------------
    def check_host(self, host: str) -> None:
        """Refuse a host (as written in the URL) the list does not admit; see the module doc."""
        name = host.lower().removesuffix(".")
        ip = parse_ip(name)
        if ip is not None:
            self._check_literal(host, ip)
            return
        if "%" in name:
            raise EgressRefused(host, "has an IPv6 zone identifier")
        if _is_numeric(name):
            raise EgressRefused(host, "is a numeric host not written as a.b.c.d (read as an IPv4 address)")
        if not _NAME.fullmatch(name):
            raise EgressRefused(host, "is not a valid host name")
        if self._names_it(name):
            return
        if name in INTERNAL_NAMES or name.endswith(".localhost"):
            raise EgressRefused(host, f"names this machine or a metadata service, {_UNLESS_LISTED}")
        if not self.public:
            raise EgressRefused(host, "is not in WEBHOOK_ALLOWED_HOSTS")

    def _names_it(self, name: str) -> bool:
        return name in self.names or any(name == s[1:] or name.endswith(s) for s in self.suffixes)

    def _check_literal(self, host: str, ip: Address) -> None:
        if self._lists(ip):
            return
        why = non_public_reason(ip)
        if why is not None:
            raise EgressRefused(host, f"is {why}, {_UNLESS_LISTED}")
        if not self.public:
            raise EgressRefused(host, "is not in WEBHOOK_ALLOWED_HOSTS")

    def _lists(self, ip: Address) -> bool:
        """Is ``ip`` (or the IPv4 address it carries) inside a listed network?

        A metadata address counts as listed only through an entry that is exactly that address.
        """
        inner = embedded_ipv4(ip)
        for candidate in (ip, inner):
            if candidate is None:
                continue
            exact_only = candidate in METADATA_ADDRESSES
            for net in self.networks:
                if net.version != candidate.version or candidate not in net:
                    continue
                if not exact_only or net.num_addresses == 1:
                    return True
        return False

    # --- at connect time ------------------------------------------------------------------------
    def check_address(self, host: str, address: Address) -> None:
        """Refuse one resolved address of ``host`` unless it is public or listed."""
        if self._lists(address):
            return
        why = non_public_reason(address)
        if why is not None:
            raise EgressRefused(host, f"resolves to {address}, {why}, {_UNLESS_LISTED}")

    def resolve(self, host: str, port: int) -> list[Address]:
        """Check ``host``, resolve it once, check every address; the addresses to connect to, in order.

        Every address must pass — a name answering one public and one internal address is
        refused, since the client could be steered to either. ``OSError`` from the resolver (no
        such name, DNS down) is the caller's to handle: a network failure, not a refusal.
        """
        self.check_host(host)
        literal = parse_ip(host)
        if literal is not None:
            return [literal]
        addresses: list[Address] = []
        for raw in self.resolver(host, port):
            address = parse_ip(raw)
            if address is None:
                raise EgressRefused(host, f"resolves to {raw!r}, not an IP address")
            self.check_address(host, address)
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise EgressRefused(host, "resolves to no address")
        return addresses

    def describe(self) -> dict[str, object]:
        """What ``/status`` shows: the list as understood."""
        return {
            "public": self.public,
            "names": sorted(self.names) + list(self.suffixes),
            "networks": [str(n) for n in self.networks],
        }


def _is_numeric(name: str) -> bool:
    """Every dot-separated label is a number (decimal, octal or hex): resolvers read it as IPv4."""
    labels = name.split(".")
    return all(_NUMERIC_LABEL.fullmatch(label) for label in labels if label) and any(labels)
