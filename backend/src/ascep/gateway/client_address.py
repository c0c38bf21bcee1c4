"""The client's address: the TCP peer, or what a *trusted* front proxy says in ``X-Forwarded-For``.

Anyone can send ``X-Forwarded-For``; honouring it from any peer would let a client pick its own
rate-limit identity (a new address per request). So it is read only when the TCP peer is one of
``TRUSTED_PROXIES`` (addresses or CIDR networks), and then from the right: each trusted proxy
appends the peer it saw, so walking right to left past trusted addresses, the first untrusted one
is the client (nginx's ``real_ip_recursive``, Envoy's ``xff_num_trusted_hops`` by address). Nothing
to the left of it is looked at — that part is whatever the client wrote. An entry that is not an
IP address ends the walk at the last address known good.

:func:`limit_key` is what a rate limit counts: IPv6 clients by their /64 (one subscriber usually
holds a whole /64 and could otherwise rotate through 2^64 identities), IPv4 by the address,
IPv4-mapped IPv6 (``::ffff:10.0.0.1``) as the IPv4 address.

Used by the rate-limit proxy step and by the middlewares of the gateway's own routes and
Socket.IO, so every limit sees the same client. Plain Python, no I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from ascep.common.errors import ConfigError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Most ``X-Forwarded-For`` entries looked at (a chain longer than this is not a real one).
MAX_HOPS = 32


def parse_trusted(entries: Iterable[str], setting: str = "TRUSTED_PROXIES") -> tuple[IPNetwork, ...]:
    """``["10.0.0.0/8", "127.0.0.1", "::1"]`` → networks; a bad entry raises naming ``setting``."""
    networks: list[IPNetwork] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ConfigError(setting, f"{entry!r} is not an IP address or CIDR network ({exc})") from exc
    return tuple(networks)


def _address(text: str) -> IPAddress | None:
    """An IP address from an ``X-Forwarded-For`` entry (``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``)."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # IPv4 with a port; a bare IPv6 has several colons
        text = text.split(":", 1)[0]
    try:
        found = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


class ClientAddresses:
    """Resolve the client address of a request given the peer and its ``X-Forwarded-For`` values."""

    def __init__(self, trusted: tuple[IPNetwork, ...] = ()) -> None:
        self.trusted = trusted

    def is_trusted(self, address: IPAddress) -> bool:
        return any(address in network for network in self.trusted)

    def resolve(self, peer: str, forwarded_for: Iterable[str] = ()) -> str:
        """The client's address as text: ``peer`` unless ``peer`` is a trusted proxy."""
        if not self.trusted:
            return peer
        peer_address = _address(peer)
        if peer_address is None or not self.is_trusted(peer_address):
            return peer
        hops = [part for value in forwarded_for for part in value.split(",") if part.strip()]
        client = peer_address
        for entry in reversed(hops[-MAX_HOPS:]):
            found = _address(entry)
            if found is None:
                break  # garbage from the untrusted side: keep the last address known good
            client = found
            if not self.is_trusted(found):
                break
        return str(client)

    def from_environ(self, environ: dict[str, Any]) -> str:
        """The client address of a WSGI request (the gateway's own routes, Socket.IO)."""
        peer = environ.get("REMOTE_ADDR", "") or ""
        if not self.trusted:
            return peer
        raw = environ.get("headers_raw")  # eventlet keeps repeated headers apart
        if raw is not None:
            values = [v for n, v in raw if n.lower() == "x-forwarded-for"]
        else:
            header = environ.get("HTTP_X_FORWARDED_FOR")
            values = [header] if header else []
        return self.resolve(peer, values)

    def from_headers(self, peer: str, headers: Iterable[tuple[str, str]]) -> str:
        """The client address of a proxied request (``Exchange.client_addr``, ``Exchange.headers``)."""
        if not self.trusted:
            return peer
        return self.resolve(peer, [v for n, v in headers if n.lower() == "x-forwarded-for"])


def limit_key(address: str) -> str:
    """What a rate limit counts by for ``address``: IPv6 by /64, IPv4 (mapped too) by address."""
    found = _address(address)
    if found is None:
        return address[:64]  # not an IP (a unix socket peer, a test client): count it as written
    if isinstance(found, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((int(found) >> 64 << 64, 64)))
    return str(found)
