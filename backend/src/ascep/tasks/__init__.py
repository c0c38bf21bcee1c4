"""Background jobs (Celery, Redis as broker and result backend) and their HTTP API (port 5005).

``celery -A ascep.tasks.celery_app worker`` runs the jobs; ``python -m ascep.tasks`` serves
``/tasks``. Import-light on purpose: the API's entry point monkey-patches before any socket
library is imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the tasks API's Flask app."""
    from ascep.tasks.app import build_app

    return build_app(config)
