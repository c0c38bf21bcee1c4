"""Map ``Location``/``Content-Location`` from a service's namespace into the gateway's.

A service answering ``POST /rules`` with ``Location: /rules/7`` means *its* ``/rules/7``; through
the gateway that resource is ``/api/rules/7``, and the bare path is a 404. Like nginx's
``proxy_redirect default``, the gateway rewrites what points into the service it called: a path
(``/rules/7``) or an absolute URL on the service's own address (``http://cep:5004/rules/7``),
and only when the path lies under one of that service's registered endpoints. Anything else —
another host, a relative reference (already resolved against the client's ``/api`` URL), a path
the service does not own — is left exactly as sent.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

from ascep.gateway.routing import ServiceDefinition, ServiceRegistry

REWRITTEN_HEADERS: frozenset[str] = frozenset({"location", "content-location"})


def rewrite_location(
    value: str,
    *,
    service: ServiceDefinition,
    service_netloc: str,
    registry: ServiceRegistry,
    prefix: str,
) -> str:
    """``value`` as the client must see it (unchanged unless it points into ``service``)."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return value
    if parts.scheme or parts.netloc:
        own = parts.scheme in ("http", "https") and parts.netloc.lower() == service_netloc.lower()
        if not own:
            return value
    elif not parts.path.startswith("/") or parts.path.startswith("//"):
        return value
    route = registry.match(unquote(parts.path))
    if route is None or route.service.name != service.name:
        return value
    return urlunsplit(("", "", prefix + parts.path, parts.query, parts.fragment))
