"""ASCEP API gateway: service registry, pooled proxy, latency statistics, health, Socket.IO.

``create_app`` imports lazily on purpose: ``python -m ascep.gateway`` imports this package before
its ``__main__`` runs, and nothing that opens sockets may be imported before monkey-patching.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the gateway app; ``config`` overrides settings (tests)."""
    from ascep.gateway.app import build_app

    return build_app(config)
