"""Raw HTTP/1.1 over a plain socket: requests no HTTP client library would agree to send."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RawResponse:
    """One response as it came off the wire."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes
    raw: bytes = field(repr=False)

    def json(self) -> Any:
        return json.loads(self.body)


def connect(port: int, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_response(sock: socket.socket, timeout: float = 5.0) -> RawResponse:
    """Read one response: the head, then ``Content-Length`` bytes (or up to end-of-file)."""
    deadline = time.monotonic() + timeout
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = _recv(sock, deadline)
        if not chunk:
            raise ConnectionError(f"connection closed before a full response head: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    _, status, reason = [*status_line.split(" ", 2), ""][:3]
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        length = int(headers["content-length"])
        while len(body) < length:
            chunk = _recv(sock, deadline)
            if not chunk:
                break
            body += chunk
        body = body[:length]
    else:
        while chunk := _recv(sock, deadline):
            body += chunk
    return RawResponse(int(status), reason, headers, body, data)


def exchange(port: int, request: bytes, timeout: float = 5.0) -> RawResponse:
    """Send ``request`` as-is on a fresh connection and read the answer."""
    with connect(port, timeout) as sock:
        sock.sendall(request)
        return read_response(sock, timeout)


def closed_by_peer(sock: socket.socket, timeout: float) -> bool:
    """Whether the server hangs up on ``sock`` within ``timeout`` (whatever it sent before)."""
    deadline = time.monotonic() + timeout
    try:
        while _recv(sock, deadline):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def _recv(sock: socket.socket, deadline: float) -> bytes:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("no response in time")
    sock.settimeout(remaining)
    return sock.recv(65536)
