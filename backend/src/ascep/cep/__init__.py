"""CEP rule engine service (port 5004): JSON rules with windows and patterns over live events.

Import-light on purpose: ``python -m ascep.cep`` monkey-patches before any socket library is
imported, so nothing networking-related may load at package import time. The engine itself
(:mod:`ascep.cep.engine`, :mod:`ascep.cep.rules`, :mod:`ascep.cep.patterns`,
:mod:`ascep.cep.replay`) is plain Python without Flask or Redis.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the CEP engine's Flask app and start its event subscription (unless CEP_AUTOSTART=0)."""
    from ascep.cep.app import build_app

    return build_app(config)
