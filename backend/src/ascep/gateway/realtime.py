"""Socket.IO side of the gateway: connected clients (the Redis bridge builds on this)."""

from __future__ import annotations

import logging
from typing import Any

from flask_socketio import SocketIO

logger = logging.getLogger(__name__)


class Realtime:
    """Tracks Socket.IO connections so health and status report the real number."""

    def __init__(self, socketio: SocketIO) -> None:
        self.socketio = socketio
        self.active_connections = 0
        socketio.on_event("connect", self._on_connect)
        socketio.on_event("disconnect", self._on_disconnect)

    def _on_connect(self, auth: Any = None) -> None:
        self.active_connections += 1

    def _on_disconnect(self, reason: Any = None) -> None:
        self.active_connections = max(0, self.active_connections - 1)

    def status(self) -> dict[str, Any]:
        return {"active_connections": self.active_connections}
