"""Health monitor (port 5001): watches every registered service, the gateway, Redis and the
Celery workers, with hysteresis, availability and history; publishes ``service_status`` events.

Import-light on purpose: the entry point monkey-patches before any socket library is imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the health monitor's Flask app (the check loop is started by the entry point)."""
    from ascep.health.app import build_app

    return build_app(config)
