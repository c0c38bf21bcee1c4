"""A ``requests`` session whose every connection goes to an address the egress policy checked.

How: :class:`PinnedAdapter` resolves the URL's host once per request through
:meth:`EgressPolicy.resolve` (every address checked), then sends to the checked addresses in
order. For each try, ``requests`` asks the adapter which connection pool serves the request
(``build_connection_pool_key_attributes``, the extension point requests documents for this) and
gets the *checked address* as the pool's host — urllib3 connects there and never resolves the name
again: no window for DNS rebinding between the check and the connection. The next address is tried
only when the connection could not be opened at all (refused, connect timeout): the request was
never sent, so a POST is never sent twice. The name stays where the server needs it: the ``Host``
header and, for HTTPS, SNI and the certificate check (``server_hostname``, ``assert_hostname``).
Redirects are never followed, and proxies never used (a proxy would resolve the name itself).

This is the approach of ``requests-hardened`` (maintained, by Saleor), which we do not use as is:
its filter is a fixed private/loopback switch — no allow-list of names and networks, no
injectable resolver, and only the first resolved address is checked and tried.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, NoReturn, cast
from urllib.parse import urlparse

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from ascep.common.egress import Address, EgressPolicy, EgressRefused

if TYPE_CHECKING:
    from requests.adapters import _HostParams, _PoolKwargs
    from requests.models import PreparedRequest

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}
#: Addresses of one name tried before giving up (each may cost a connect timeout).
MAX_ADDRESSES_TRIED = 4


def host_header(host: str, port: int | None, scheme: str) -> str:
    """The ``Host`` value a client would send for ``host`` (IPv6 in brackets, default port left out)."""
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None or port == DEFAULT_PORTS.get(scheme) else f"{shown}:{port}"


def never_connected(exc: requests.ConnectionError) -> bool:
    """Did ``exc`` happen before a connection was open (so nothing of the request was sent)?"""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0].reason if exc.args and isinstance(exc.args[0], MaxRetryError) else None
    return isinstance(reason, ConnectTimeoutError)  # urllib3's NewConnectionError is one too


class PinnedAdapter(HTTPAdapter):
    """Connects only to addresses :attr:`policy` checked (see module doc)."""

    def __init__(self, policy: EgressPolicy, pool_maxsize: int = 10) -> None:
        super().__init__(pool_maxsize=pool_maxsize)
        self.policy = policy
        self._pinned = threading.local()  # the address of the current try, per worker thread

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        addresses = self._checked_addresses(request)[:MAX_ADDRESSES_TRIED]
        for tried, address in enumerate(addresses, 1):
            self._pinned.address = address
            try:
                return super().send(request, *args, **kwargs)
            except requests.ConnectionError as exc:
                if tried == len(addresses) or not never_connected(exc):
                    raise
                logger.debug("cannot connect to %s at %s, trying its next address", request.url, address)
            finally:
                self._pinned.address = None
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _checked_addresses(self, request: PreparedRequest) -> list[Address]:
        parts = urlparse(str(request.url or ""))  # as requests finds the host (_urllib3_request_context)
        scheme, host = parts.scheme.lower(), parts.hostname
        if not host:
            raise EgressRefused("(none)", "is no host: the URL has none")
        if scheme not in DEFAULT_PORTS:
            raise EgressRefused(host, f"has scheme {scheme!r}, not http or https")
        try:
            return self.policy.resolve(host, parts.port or DEFAULT_PORTS[scheme])
        except OSError as exc:  # no such name, DNS down: a network failure, retried like one
            raise requests.ConnectionError(f"cannot resolve {host!r}: {exc}", request=request) from exc

    def build_connection_pool_key_attributes(
        self, request: PreparedRequest, verify: bool | str, cert: str | tuple[str, str] | None = None
    ) -> tuple[_HostParams, _PoolKwargs]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        host, scheme, port = host_params["host"], host_params["scheme"], host_params["port"]
        address: Address | None = getattr(self._pinned, "address", None)
        if address is None:  # called outside send(): check here, first address
            address = self._checked_addresses(request)[0]
        request.headers["Host"] = host_header(host, port, scheme)
        if scheme == "https":
            tls = cast(dict[str, Any], pool_kwargs)
            tls["server_hostname"] = host  # SNI
            tls["assert_hostname"] = host  # the certificate must name the host, not the address
        host_params["host"] = str(address)
        return host_params, pool_kwargs

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> NoReturn:
        raise EgressRefused(proxy, "is a proxy: not used for webhooks (it would resolve the name itself)")


def pinned_session(policy: EgressPolicy, pool_maxsize: int = 10) -> requests.Session:
    """A session for requests on a user's behalf: checked addresses only, no proxies.

    Send with ``allow_redirects=False``; were a redirect followed, its target would still be
    checked like any other connection (``max_redirects=0`` is no help: requests raises it even
    when not following, as it prepares the next request).
    """
    session = requests.Session()
    session.trust_env = False  # no proxies or .netrc from the environment
    adapter = PinnedAdapter(policy, pool_maxsize)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
