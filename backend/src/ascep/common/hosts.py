"""The ``Host`` allow-list (``ALLOWED_HOSTS``): refuse requests addressed to a name we do not own.

Why: a page on ``evil.com`` whose DNS record is switched to ``127.0.0.1`` (DNS rebinding) makes
the victim's browser send same-origin requests to a local gateway — with ``Host: evil.com``.
Refusing unknown ``Host`` values is the standard defence (Django's ``ALLOWED_HOSTS``, whose
pattern rules are followed here): an entry is a host name or IP matched exactly and
case-insensitively, the port is ignored, ``.example.com`` also matches every subdomain, ``*``
matches anything (an explicit opt-out). A request without ``Host`` (HTTP/1.0) cannot come from a
browser and is let through.

The check runs in front of everything an app serves (Flask routes, the gateway's proxy
dispatcher, Socket.IO: see :class:`ascep.common.app_factory.ServiceApp`), so no route can forget it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ascep.common.errors import HostNotAllowed
from ascep.common.wsgi_errors import wsgi_error

logger = logging.getLogger(__name__)

#: What development and tests allow when ``ALLOWED_HOSTS`` is not set (any port).
LOOPBACK_HOSTS: tuple[str, ...] = ("localhost", "127.0.0.1", "[::1]")

# A DNS name (underscores too: docker-compose service names such as ``price_feed``) or a
# bracketed IPv6 literal, with an optional port. Anything else cannot be a name we own.
_HOST_HEADER = re.compile(r"^(?P<name>[a-z0-9_.\-]{1,253}|\[[a-f0-9:.]{2,45}\])(?::(?P<port>[0-9]{1,5}))?$")


def host_name(header: str) -> str | None:
    """The host part of a ``Host`` header value, lower-cased, port and trailing dot removed.

    ``None`` when the value is not a well-formed ``host[:port]`` (it can then match nothing).
    """
    match = _HOST_HEADER.match(header.strip().lower())
    if match is None:
        return None
    return match["name"].removesuffix(".")


@dataclass(frozen=True)
class HostAllowList:
    """Compiled ``ALLOWED_HOSTS``: exact names, ``.domain`` suffixes, or ``*``."""

    exact: frozenset[str]
    suffixes: tuple[str, ...]
    any_host: bool

    @classmethod
    def from_patterns(cls, patterns: Iterable[str]) -> HostAllowList:
        exact: set[str] = set()
        suffixes: list[str] = []
        any_host = False
        for raw in patterns:
            pattern = raw.strip().lower().removesuffix(".")
            if pattern == "*":
                any_host = True
            elif pattern.startswith("."):
                suffixes.append(pattern)
            elif pattern:
                exact.add(pattern)
        return cls(frozenset(exact), tuple(suffixes), any_host)

    def allows_name(self, name: str | None, *, wildcard: bool = True) -> bool:
        """Is the host ``name`` (no port) allowed? ``wildcard=False`` ignores ``*``.

        The Socket.IO origin check trusts a same-origin page only on a host that is listed by
        name, never merely because ``*`` switched host checking off.
        """
        if name is None:
            return False
        if wildcard and self.any_host:
            return True
        if name in self.exact:
            return True
        return any(name == suffix[1:] or name.endswith(suffix) for suffix in self.suffixes)

    def allows(self, header: str | None, *, wildcard: bool = True) -> bool:
        """Is a request with this ``Host`` header allowed? (missing header: yes, see module doc)"""
        if header is None:
            return True
        if wildcard and self.any_host:
            return True
        return self.allows_name(host_name(header), wildcard=wildcard)


def refuse_host(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """Answer 400 ``HOST_NOT_ALLOWED`` (the envelope); the value is echoed, truncated, for operators."""
    shown = str(environ.get("HTTP_HOST", ""))[:100]
    logger.debug("refused request for host %r (not in ALLOWED_HOSTS)", shown)  # a flood must not flood logs
    error = HostNotAllowed(
        f"host {shown!r} is not in ALLOWED_HOSTS", {"host": shown, "setting": "ALLOWED_HOSTS"}
    )
    return wsgi_error(error, environ, start_response)
