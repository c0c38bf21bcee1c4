"""The fan-out's view of python-socketio: emit, rooms, and each client's outgoing queue depth."""

from __future__ import annotations

from typing import Any, Protocol

import socketio

NAMESPACE = "/"


class Emitter(Protocol):
    """What the fan-out needs from Socket.IO (a recording stand-in in unit tests)."""

    def emit(self, event: str, data: Any, to: str | list[str] | None, skip: list[str] | None) -> None: ...
    def enter_room(self, sid: str, room: str) -> None: ...
    def leave_room(self, sid: str, room: str) -> None: ...
    def queue_size(self, sid: str) -> int | None: ...


class SocketIOEmitter:
    def __init__(self, server: socketio.Server) -> None:
        self.server = server

    def emit(self, event: str, data: Any, to: str | list[str] | None, skip: list[str] | None) -> None:
        self.server.emit(event, data, to=to, skip_sid=skip, namespace=NAMESPACE)

    def enter_room(self, sid: str, room: str) -> None:
        self.server.enter_room(sid, room, namespace=NAMESPACE)

    def leave_room(self, sid: str, room: str) -> None:
        self.server.leave_room(sid, room, namespace=NAMESPACE)

    def queue_size(self, sid: str) -> int | None:
        """Packets waiting in the client's Engine.IO queue (None: the client is gone)."""
        eio_sid = self.server.manager.eio_sid_from_sid(sid, NAMESPACE)
        socket = self.server.eio.sockets.get(eio_sid) if eio_sid else None
        return socket.queue.qsize() if socket is not None else None
