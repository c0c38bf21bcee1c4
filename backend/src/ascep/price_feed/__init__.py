"""Price feed service (port 5002): Binance WebSocket client, simulated markets, Redis publication.

Import-light on purpose: ``python -m ascep.price_feed`` monkey-patches before any socket library
is imported, so nothing networking-related may load at package import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the price feed's Flask app (sources are started by the entry point, not here)."""
    from ascep.price_feed.app import build_app

    return build_app(config)
