"""A local server speaking Binance's combined-stream WebSocket protocol, for tests.

Runs a real WebSocket server (the ``websockets`` package) on an asyncio loop in a background
thread of the pytest process. Clients connect to ``ws://127.0.0.1:<port>/stream?streams=...``;
the server pushes, for every subscribed ``<symbol>@<kind>``, payloads shaped exactly like the
examples in Binance's spot WebSocket documentation. Tests switch its behaviour at run time:
``mode = "normal" | "silent" | "garbage"``, :meth:`drop_connections` (abrupt or close frame),
:meth:`send_raw_bytes` (protocol-level garbage), :meth:`stop`/:meth:`start` (unreachable).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from support.ports import free_port

BASE_PRICES = {"BTCUSDT": 65000.0, "ETHUSDT": 3200.0, "ETHBTC": 0.0492, "EURUSDT": 1.08}


def book_ticker(symbol: str, bid: float, ask: float, update_id: int) -> dict[str, Any]:
    return {
        "u": update_id,
        "s": symbol,
        "b": f"{bid:.8f}",
        "B": "31.21000000",
        "a": f"{ask:.8f}",
        "A": "40.66000000",
    }


def trade(symbol: str, price: float, trade_id: int, ts: int) -> dict[str, Any]:
    return {
        "e": "trade",
        "E": ts,
        "s": symbol,
        "t": trade_id,
        "p": f"{price:.8f}",
        "q": "0.01500000",
        "T": ts,
        "m": True,
        "M": True,
    }


def ticker_24h(symbol: str, last: float, bid: float, ask: float, ts: int) -> dict[str, Any]:
    return {
        "e": "24hrTicker",
        "E": ts,
        "s": symbol,
        "p": "0.0015",
        "P": "250.00",
        "w": f"{last:.8f}",
        "x": f"{last:.8f}",
        "c": f"{last:.8f}",
        "Q": "10",
        "b": f"{bid:.8f}",
        "B": "10",
        "a": f"{ask:.8f}",
        "A": "100",
        "o": f"{last:.8f}",
        "h": f"{last * 1.01:.8f}",
        "l": f"{last * 0.99:.8f}",
        "v": "10000.00000000",
        "q": "18.00000000",
        "O": ts - 86_400_000,
        "C": ts,
        "F": 0,
        "L": 18150,
        "n": 18151,
    }


class FakeBinance:
    """See the module docstring. ``interval`` is the pause between rounds of messages."""

    def __init__(
        self, *, port: int | None = None, interval: float = 0.02, ping_interval: float | None = 20.0
    ) -> None:
        self.port = port or free_port()
        self.interval = interval
        self.ping_interval = ping_interval
        self.mode = "normal"
        self.connections = 0
        self.paths: list[str] = []
        self.sent = 0
        self._ids = itertools.count(400900217)
        self._clients: set[ServerConnection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/stream"

    # --- lifecycle (callable from the test thread) ---
    def start(self) -> FakeBinance:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(self._listen())
            ready.set()
            self._loop.run_forever()
            self._loop.close()

        self._thread = threading.Thread(target=run, name="fake-binance", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake Binance server did not start")
        return self

    def stop(self) -> None:
        """Close every connection abruptly and stop listening (the port refuses connections)."""
        if self._loop is None:
            return
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(10)
        self._loop = None

    def drop_connections(self, *, abrupt: bool = True) -> None:
        """Abrupt: TCP reset without a close frame. Otherwise: a close frame (e.g. the 24 h cut)."""
        self._call(self._drop(abrupt))

    def send_raw_bytes(self, data: bytes) -> None:
        """Write bytes that are not a valid WebSocket frame to every client."""

        async def write() -> None:
            for client in list(self._clients):
                client.transport.write(data)

        self._call(write())

    def open_connections(self) -> int:
        return len(self._clients)

    # --- internals (on the server's loop) ---
    def _call(self, coro: Any) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _listen(self) -> Server:
        return await serve(
            self._handle,
            "127.0.0.1",
            self.port,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_interval,
        )

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close(close_connections=False)
        await self._drop(abrupt=True)
        await self._server.wait_closed()

    async def _drop(self, abrupt: bool) -> None:
        for client in list(self._clients):
            if abrupt:
                client.transport.abort()
            else:
                await client.close(1001, "24h connection limit")

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections += 1
        assert ws.request is not None
        self.paths.append(ws.request.path)
        query = parse_qs(urlsplit(ws.request.path).query)
        streams = [s for s in query.get("streams", [""])[0].split("/") if s]
        self._clients.add(ws)
        try:
            while True:
                if self.mode == "normal":
                    for stream in streams:
                        await ws.send(json.dumps({"stream": stream, "data": self._payload(stream)}))
                        self.sent += 1
                elif self.mode == "garbage":
                    await ws.send("this is {not json")
                    await ws.send(json.dumps({"result": None, "id": 1}))
                await asyncio.sleep(self.interval)
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(ws)

    def _payload(self, stream: str) -> dict[str, Any]:
        symbol_lower, _, kind = stream.partition("@")
        symbol = symbol_lower.upper()
        mid = BASE_PRICES.get(symbol, 10.0)
        bid, ask = mid * 0.9999, mid * 1.0001
        ts = int(time.time() * 1000)
        if kind == "bookTicker":
            return book_ticker(symbol, bid, ask, next(self._ids))
        if kind == "trade":
            return trade(symbol, mid, next(self._ids), ts)
        return ticker_24h(symbol, mid, bid, ask, ts)


@contextlib.contextmanager
def running(**kwargs: Any) -> Any:
    server = FakeBinance(**kwargs).start()
    try:
        yield server
    finally:
        server.stop()
