"""Header rules of a well-behaved HTTP proxy (RFC 9110 §7.6.1).

Hop-by-hop headers describe one connection, not the message, so they never cross the gateway in
either direction; neither does any header the ``Connection`` header names.
"""

from __future__ import annotations

from collections.abc import Iterable

HOP_BY_HOP: frozenset[str] = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)

#: A client's own, shorter deadline in seconds (``X-Request-Timeout: 2.5``); never sent on.
REQUEST_TIMEOUT_HEADER = "X-Request-Timeout"
#: Milliseconds left of the call's deadline, sent to the service so it can give up early.
DEADLINE_HEADER = "X-Request-Deadline-Ms"
#: How many times the gateway tried the call (on every proxied answer).
ATTEMPTS_HEADER = "X-Upstream-Attempts"
#: A client's promise that repeating the request is safe: makes a POST/PATCH retryable.
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"

#: Request headers the gateway sets itself instead of copying.
_REPLACED_ON_REQUEST: frozenset[str] = frozenset(
    {
        "host",
        "content-length",
        "x-request-id",
        "x-correlation-id",
        REQUEST_TIMEOUT_HEADER.lower(),
        DEADLINE_HEADER.lower(),
    }
)


_FORWARDED: frozenset[str] = frozenset({"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"})


def _connection_tokens(headers: Iterable[tuple[str, str]]) -> set[str]:
    tokens: set[str] = set()
    for name, value in headers:
        if name.lower() == "connection":
            tokens.update(t.strip().lower() for t in value.split(",") if t.strip())
    return tokens


def _is_hop_by_hop(lowered: str, named: set[str]) -> bool:
    return lowered in HOP_BY_HOP or lowered.startswith("proxy-") or lowered in named


def end_to_end(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``headers`` without hop-by-hop ones (for responses coming back from a service)."""
    headers = list(headers)
    named = _connection_tokens(headers)
    return [(n, v) for n, v in headers if not _is_hop_by_hop(n.lower(), named)]


def upstream_request_headers(
    headers: Iterable[tuple[str, str]],
    *,
    request_id: str,
    client_addr: str,
    scheme: str,
    host: str,
    content_length: int | None,
    deadline_ms: int | None = None,
) -> dict[str, str]:
    """Headers to send to the service: end-to-end ones, correlation id and ``X-Forwarded-*``.

    ``X-Forwarded-For`` is appended to (a load balancer in front of us may have started it);
    ``-Proto`` and ``-Host`` are kept when a front proxy set them, else filled from this hop.
    """
    headers = list(headers)
    named = _connection_tokens(headers)
    out: dict[str, str] = {}
    forwarded: dict[str, str] = {}
    lowered_seen: set[str] = set()
    for name, value in headers:
        lowered = name.lower()
        if _is_hop_by_hop(lowered, named) or lowered in _REPLACED_ON_REQUEST:
            continue
        if lowered in _FORWARDED:
            forwarded[lowered] = f"{forwarded[lowered]}, {value}" if lowered in forwarded else value
            continue
        if lowered in lowered_seen:
            # Repeated request headers are equivalent to one comma-joined header (RFC 9110 §5.3).
            key = next(k for k in out if k.lower() == lowered)
            out[key] = f"{out[key]}, {value}"
            continue
        lowered_seen.add(lowered)
        out[name] = value
    prior_for = forwarded.get("x-forwarded-for")
    out["X-Forwarded-For"] = f"{prior_for}, {client_addr}" if prior_for else client_addr
    out["X-Forwarded-Proto"] = forwarded.get("x-forwarded-proto", scheme)
    out["X-Forwarded-Host"] = forwarded.get("x-forwarded-host", host)
    out["X-Request-ID"] = request_id
    if content_length is not None:
        out["Content-Length"] = str(content_length)
    if deadline_ms is not None:
        out[DEADLINE_HEADER] = str(deadline_ms)
    return out
