"""Tiny TCP servers that misbehave at the protocol level (what no HTTP framework will do)."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Self

from support.ports import free_port


class _LoopbackServer:
    """A listening loopback socket served by a daemon thread until :meth:`stop`."""

    backlog = 16

    def __init__(self) -> None:
        self.port = free_port()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", self.port))
        self._sock.listen(self.backlog)
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self._serve_connection(conn)

    def _serve_connection(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


class BrokenHttpServer(_LoopbackServer):
    """Accepts connections, reads the request head, then answers with garbage and hangs up."""

    def __init__(self, reply: bytes = b"THIS IS NOT HTTP\r\n\r\n") -> None:
        super().__init__()
        self.reply = reply

    def _serve_connection(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(2)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                conn.sendall(self.reply)
            except OSError:
                pass


class ResettingServer(_LoopbackServer):
    """Reads each request (head and ``Content-Length`` body), counts it, then resets the connection.

    The request has fully arrived — a service could have acted on it (charged a card) — and the
    gateway still gets no response byte: exactly the case where only an idempotent call may be
    sent again. ``requests`` counts what arrived; ``bodies`` keeps each body.
    """

    backlog = 64

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()

    def _serve_connection(self, conn: socket.socket) -> None:
        threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
            # health checks and the gateway's OpenAPI fetches are not calls
            if not head.split(b" ", 2)[1].startswith((b"/health", b"/openapi.json")):
                with self._lock:
                    self.requests += 1
                    self.bodies.append(body)
        except OSError:
            pass
        finally:
            # SO_LINGER 0: close() sends RST instead of FIN (a reset, not an empty answer)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()


class SilentServer(_LoopbackServer):
    """Accepts every connection and never answers (a hung peer): each is held open until stop."""

    def __init__(self) -> None:
        super().__init__()
        self.connections: list[socket.socket] = []

    def _serve_connection(self, conn: socket.socket) -> None:
        self.connections.append(conn)

    def stop(self) -> None:
        super().stop()
        for conn in self.connections:
            conn.close()
