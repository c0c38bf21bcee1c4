"""A lightweight Engine.IO v4 / Socket.IO v5 client over one raw websocket, for load and abuse tests.

python-socketio's client starts a thread for every message it receives (~0.3 ms of CPU each), so
in a test process it, not the gateway, becomes the bottleneck under load. This client does the
real handshake, answers pings and only timestamps what it reads on one thread; events are parsed
when a test asks for them. ``flood`` writes many pre-framed messages in one ``sendall``, which is
how a hostile client sends thousands of messages in milliseconds.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from typing import Any

import websocket
from websocket import ABNF

from support.polling import wait_for


def ws_url(http_url: str) -> str:
    return http_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"


def frame(text: str) -> bytes:
    """One masked client text frame, as a browser would send it."""
    return ABNF.create_frame(text, ABNF.OPCODE_TEXT).format()


def event_packet(event: str, data: Any = None) -> str:
    """A Socket.IO EVENT packet for the default namespace inside an Engine.IO MESSAGE."""
    args = [event] if data is None else [event, data]
    return "42" + json.dumps(args, separators=(",", ":"))


class RawSocketIO:
    """One connected client; a reader thread records ``(arrival time, packet)`` for every packet."""

    def __init__(
        self, http_url: str, *, rcvbuf: int | None = None, read: bool = True, protocol: int | None = 2
    ) -> None:
        sockopt = ((socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf),) if rcvbuf else ()
        self.ws = websocket.create_connection(
            ws_url(http_url), sockopt=sockopt, timeout=10, skip_utf8_validation=True
        )
        opened = self.ws.recv()
        assert opened.startswith("0{"), opened
        self.ws.send("40" + (json.dumps({"protocol": protocol}) if protocol is not None else ""))
        ack = self.ws.recv()
        assert ack.startswith("40"), ack
        self.sid = json.loads(ack[2:])["sid"]
        self.packets: list[tuple[float, str]] = []
        self.close_frame: tuple[int, str] | None = None
        self.closed = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True) if read else None
        if self._thread is not None:
            self._thread.start()

    def _read(self) -> None:
        try:
            while True:
                received = self.ws.recv_frame()  # raw frames: a close frame is seen, not answered
                opcode, data, now = received.opcode, received.data, time.time()
                if opcode == ABNF.OPCODE_CLOSE:
                    code = int.from_bytes(data[:2], "big") if len(data) >= 2 else 1005
                    self.close_frame = (code, data[2:].decode("utf-8", "replace"))
                    break
                if opcode != ABNF.OPCODE_TEXT:
                    continue
                text = data.decode("utf-8")
                if text == "2":
                    self.ws.send("3")  # Engine.IO pong
                    continue
                with self._lock:
                    self.packets.append((now, text))
        except Exception:  # the connection ended (closed by either side): stop reading
            pass
        finally:
            self.closed.set()

    def emit(self, event: str, data: Any = None) -> None:
        self.ws.send(event_packet(event, data))

    def flood(self, packets: list[str]) -> None:
        """Send every packet as its own frame, all in one write."""
        self.ws.sock.sendall(b"".join(frame(p) for p in packets))

    def events(self, name: str) -> list[tuple[float, Any]]:
        """``(arrival time, data)`` of every ``name`` event received so far, in order."""
        prefix = f'42["{name}"'
        with self._lock:
            found = [(at, text) for at, text in self.packets if text.startswith(prefix)]
        out = []
        for at, text in found:
            args = json.loads(text[2:])
            out.append((at, args[1] if len(args) > 1 else None))
        return out

    def count(self, name: str) -> int:
        prefix = f'42["{name}"'
        with self._lock:
            return sum(1 for _, text in self.packets if text.startswith(prefix))

    def wait_count(self, name: str, count: int, timeout: float = 10.0) -> int:
        return wait_for(
            lambda: (found := self.count(name)) >= count and found,
            timeout=timeout,
            message=f"{count} {name} events",
        )

    def packets_seen(self) -> list[str]:
        with self._lock:
            return [text for _, text in self.packets]

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already closed by the server
            self.ws.close(timeout=1)
