"""The pipeline's terminal step: send the exchange to its instance over a pooled connection.

One ``requests.Session`` per instance *address* keeps connections alive (the single biggest win
measured for this stack): created up front for static instances, on first use for discovered ones,
each bounded by its service's concurrency limit, and closed when the last instance at that address
leaves. Cookies are never stored in it (clients must not see each other's cookies), and
proxy environment variables are ignored unless configured. The request body is streamed to the
service and the response body streamed back without decoding or re-parsing.
"""

from __future__ import annotations

import http.cookiejar
import logging
import time
from collections.abc import Iterator, Mapping
from typing import IO, Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from ascep.common.errors import BadGateway, NoHealthyUpstream, ServiceUnavailable, UpstreamTimeout
from ascep.gateway.proxy.exchange import Exchange, ProxyResponse
from ascep.gateway.proxy.headers import end_to_end, upstream_request_headers
from ascep.gateway.routing import ServiceDefinition
from ascep.gateway.upstreams.instances import Upstreams
from ascep.gateway.upstreams.model import Upstream

logger = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024


class _BlockAllCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False


def make_session(pool_size: int, trust_env: bool) -> requests.Session:
    """A keep-alive session sized for ``pool_size`` concurrent calls to one service."""
    session = requests.Session()
    session.trust_env = trust_env
    session.headers.clear()  # no default User-Agent/Accept-Encoding: the client's own go through
    session.cookies.set_policy(_BlockAllCookies())
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0, pool_block=False)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class StreamedBody:
    """Request body read from the client in chunks, with the length requests needs up front."""

    def __init__(self, stream: IO[bytes], length: int) -> None:
        self._stream = stream
        self._remaining = length
        self.len = length

    def __len__(self) -> int:
        return self.len

    def __iter__(self) -> Iterator[bytes]:
        while self._remaining > 0:
            chunk = self._stream.read(min(CHUNK_SIZE, self._remaining))
            if not chunk:
                raise BadGateway("client closed the connection before sending the whole body")
            self._remaining -= len(chunk)
            yield chunk


class UpstreamBody:
    """The service's response body, streamed; the connection goes back to the pool when read."""

    def __init__(self, response: requests.Response) -> None:
        self._response = response
        self.failed = False
        self._complete = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._response.raw.stream(CHUNK_SIZE, decode_content=False)
            self._complete = True
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            self.failed = True
            logger.warning("service response broke off mid-body: %s", exc)
            raise

    def close(self) -> None:
        raw = self._response.raw
        if not self._complete:
            raw.close()  # a half-read connection must not be reused
        raw.release_conn()


class Forwarder:
    """Terminal handler: pooled HTTP call to the instance ``select_upstream`` chose."""

    def __init__(
        self,
        upstreams: Upstreams,
        *,
        connect_timeout: float,
        read_timeout: float,
        pool_sizes: Mapping[str, int],
        trust_env: bool,
    ) -> None:
        """``pool_sizes``: keep-alive connections per address of each service — its concurrency
        limit, since the bulkhead never lets more calls run at once and fewer would reopen
        connections. Timeouts are the gateway's defaults; a service's policy may override them."""
        self.timeout = (connect_timeout, read_timeout)
        self._timeouts = {s.service: s.policy.timeouts(connect_timeout, read_timeout) for s in upstreams}
        self._pool_sizes = dict(pool_sizes)
        self._trust_env = trust_env
        # Without select_upstream in the pipeline (a benchmark's baseline), the first static one.
        self._fallback: dict[str, Upstream | None] = {
            s.service: (s.static[0] if s.static else None) for s in upstreams
        }
        self._pools: dict[str, tuple[requests.Session, dict[str, str]]] = {}
        for instances in upstreams:
            for upstream in instances.static:
                self._pool(upstream)

    def base_url(self, service: ServiceDefinition) -> str:
        """The service's first static address (what ``/api/health`` and the mirror show)."""
        fallback = self._fallback.get(service.name)
        return fallback.base_url if fallback is not None else service.base_url()

    def _pool(self, upstream: Upstream) -> tuple[requests.Session, dict[str, str]]:
        pool = self._pools.get(upstream.base_url)
        if pool is None:
            session = make_session(self._pool_sizes.get(upstream.service, 10), self._trust_env)
            proxies = requests.utils.get_environ_proxies(upstream.base_url) if self._trust_env else {}
            pool = self._pools[upstream.base_url] = (session, proxies)
        return pool

    def discard(self, base_url: str) -> None:
        """Close the keep-alive pool of an address no instance uses any more."""
        pool = self._pools.pop(base_url, None)
        if pool is not None:
            pool[0].close()
            logger.info("closed the connection pool of %s", base_url)

    def retain(self, in_use: set[str]) -> None:
        """Close the pools of every address not in ``in_use`` (one a late call re-opened)."""
        for base_url in [url for url in self._pools if url not in in_use]:
            self.discard(base_url)

    def pool_addresses(self) -> list[str]:
        return sorted(self._pools)

    def __call__(self, exchange: Exchange) -> ProxyResponse:
        route = exchange.route
        assert route is not None, "forwarding needs a resolved route"
        name = route.service.name
        upstream = exchange.upstream or self._fallback[name]
        if upstream is None:
            raise NoHealthyUpstream(f"service {name!r} has no instance", {"service": name})
        where = {"service": name, "instance": upstream.instance_id}
        session, proxies = self._pools.get(upstream.base_url) or self._pool(upstream)
        url = upstream.base_url + exchange.raw_path
        if exchange.query:
            url = f"{url}?{exchange.query}"
        timeout, deadline_ms = self._attempt_timeout(exchange, name, where)
        body, length = self._request_body(exchange)
        headers = upstream_request_headers(
            exchange.headers,
            request_id=exchange.request_id,
            client_addr=exchange.client_addr,
            scheme=exchange.scheme,
            host=exchange.host,
            content_length=length,
            deadline_ms=deadline_ms,
        )
        request = requests.Request(exchange.method, url, headers=headers, data=body).prepare()
        try:
            response = session.send(
                request,
                stream=True,
                timeout=timeout,
                allow_redirects=False,
                proxies=proxies,
            )
        except requests.ConnectTimeout as exc:
            phase = _timeout_phase(exchange, "connect")
            raise UpstreamTimeout(
                f"service {name!r} did not accept a connection in time", {**where, "phase": phase}
            ) from exc
        except requests.ReadTimeout as exc:
            phase = _timeout_phase(exchange, "read")
            raise UpstreamTimeout(
                f"service {name!r} did not answer in time", {**where, "phase": phase}
            ) from exc
        except requests.ConnectionError as exc:
            if _is_refused(exc):
                raise ServiceUnavailable(f"service {name!r} is unavailable", where) from exc
            raise BadGateway(f"service {name!r} sent an invalid response", where) from exc
        except requests.RequestException as exc:
            raise BadGateway(f"service {name!r} sent an invalid response", where) from exc
        return ProxyResponse(
            status=response.status_code,
            reason=response.reason or "",
            headers=end_to_end(response.raw.headers.items()),
            body=UpstreamBody(response),
        )

    def _attempt_timeout(
        self, exchange: Exchange, name: str, where: dict[str, str]
    ) -> tuple[Any, int | None]:
        """This attempt's timeout and the milliseconds left to tell the service.

        With a deadline, connect and read together may take only the time left (urllib3's
        ``total``), each still bounded by its own setting; a deadline already past is a 504 at once.
        """
        connect, read = self._timeouts.get(name, self.timeout)
        if exchange.deadline is None:
            return (connect, read), None
        remaining = exchange.deadline - time.perf_counter()
        if remaining <= 0:
            raise UpstreamTimeout(
                f"the deadline of the call to service {name!r} has passed", {**where, "phase": "deadline"}
            )
        timeout = urllib3.Timeout(connect=min(connect, remaining), read=min(read, remaining), total=remaining)
        return timeout, max(1, int(remaining * 1000))

    @staticmethod
    def _request_body(exchange: Exchange) -> tuple[StreamedBody | None, int | None]:
        """The body to stream and its length (requests itself sends ``Content-Length: 0``)."""
        if exchange.body is None or not exchange.content_length:
            return None, None
        return StreamedBody(exchange.body, exchange.content_length), exchange.content_length

    def close(self) -> None:
        for session, _proxies in self._pools.values():
            session.close()


#: A timeout this close to the deadline (seconds) was the deadline's, not the phase's own limit.
_DEADLINE_SLACK_S = 0.002


def _timeout_phase(exchange: Exchange, phase: str) -> str:
    """``deadline`` when the call's deadline ran out, else the phase whose own timeout did."""
    deadline = exchange.deadline
    if deadline is not None and time.perf_counter() >= deadline - _DEADLINE_SLACK_S:
        return "deadline"
    return phase


def _is_refused(exc: BaseException) -> bool:
    """Did the connection fail to open (service down), as opposed to breaking mid-response?"""
    cause: BaseException | None = exc
    for _ in range(10):  # exception chains are short; the bound guards against cycles
        if cause is None:
            return False
        if isinstance(cause, NewConnectionError | ConnectionRefusedError):
            return True
        if isinstance(cause, urllib3.exceptions.MaxRetryError):
            cause = cause.reason
        else:
            cause = cause.__cause__ or cause.__context__
    return False
