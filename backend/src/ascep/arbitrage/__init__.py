"""Arbitrage detector (port 5003): fee-aware direct, triangular and multi-leg cycle detection.

Import-light on purpose: ``python -m ascep.arbitrage`` monkey-patches before any socket library
is imported, so nothing networking-related may load at package import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the detector's Flask app (the listener is started by the entry point, not here)."""
    from ascep.arbitrage.app import build_app

    return build_app(config)
