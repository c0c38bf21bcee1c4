"""Process-wide logging: one format everywhere, each line tagged with service and request id."""

from __future__ import annotations

import logging
import sys

from ascep.common.request_id import current_request_id

LOG_FORMAT = "%(asctime)s %(levelname)s %(service)s %(name)s [rid=%(request_id)s] %(message)s"


class _ContextFilter(logging.Filter):
    """Stamp each record with the service name and the current request id."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.request_id = current_request_id.get()
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send every log line to stderr in :data:`LOG_FORMAT` (supervisord collects stderr)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(_ContextFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Werkzeug's and engineio's per-request lines would cost throughput and drown real events.
    for noisy in ("werkzeug", "engineio.server", "socketio.server", "urllib3.connectionpool"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
