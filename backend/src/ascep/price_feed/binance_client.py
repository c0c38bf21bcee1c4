"""Client of Binance's public combined-stream WebSocket, built to run for weeks unattended.

One thread owns one connection at a time (websocket-client, synchronous; under eventlet's
monkey-patching its socket is green, so the thread is a cheap green thread). The loop:

* connects to ``<BINANCE_WS_URL>?streams=<symbol>@<kind>/...`` (no subscribe messages needed);
* answers the server's pings (websocket-client sends the pong inside ``recv``);
* treats "no *valid* data message for ``idle_timeout`` seconds" as a stalled connection, so a
  peer that keeps the socket open but sends nothing useful (or only garbage) is replaced;
* rolls the connection over before Binance's forced disconnect at 24 h (``max_connection_age``);
* on any failure waits ``Backoff`` (exponential, jittered, capped) and retries forever; the
  backoff is reset only after the connection has stayed healthy for ``healthy_after`` seconds,
  so a server that accepts and immediately drops cannot make us spin;
* counts malformed or unexpected messages and carries on (never fatal).

Optional conflation (``min_interval``) emits at most one record per symbol per interval,
always the newest, so a busy market does not flood the bus; 0 emits every message.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import websocket

from ascep.common.backoff import Backoff
from ascep.common.events import PriceUpdate
from ascep.common.loops import LoopThread
from ascep.common.timeutil import now_ms
from ascep.price_feed.binance_protocol import (
    SOURCE_NAME,
    BinanceMessageError,
    QuoteMerger,
    combined_stream_url,
    parse_message,
)
from ascep.price_feed.source_status import Emit, SourceStatus

logger = logging.getLogger(__name__)

_DATA_OPCODES = (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY)
_YIELD_EVERY_S = 0.002
_HOUSEKEEPING_EVERY_S = 0.05


class ConnectionLost(Exception):
    """The current connection must be replaced; ``kind`` is the error counter label."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class BinanceOptions:
    url: str
    symbols: tuple[str, ...]
    streams: tuple[str, ...]
    idle_timeout: float = 20.0
    connect_timeout: float = 10.0
    backoff_initial: float = 1.0
    backoff_cap: float = 60.0
    healthy_after: float = 30.0
    max_connection_age: float = 23.5 * 3600
    min_interval: float = 0.2

    @property
    def stream_url(self) -> str:
        return combined_stream_url(self.url, self.symbols, self.streams)


class BinanceSource:
    """Reads the combined stream and emits :class:`PriceUpdate` records (see module docstring)."""

    name = SOURCE_NAME

    def __init__(self, options: BinanceOptions, emit: Emit, status: SourceStatus | None = None) -> None:
        self.options = options
        self._emit = emit
        self.status = status or SourceStatus(self.name)
        self.backoff = Backoff(initial=options.backoff_initial, cap=options.backoff_cap, jitter=0.2)
        self.merger = QuoteMerger(self.name)
        #: Monotonic time of the last valid data message (failover and stall detection use it).
        self.last_valid_at: float | None = None
        self._loop = LoopThread(self._run, "binance-client")
        self._stopping = self._loop.stopping
        self._attempts = 0
        self._last_emit: dict[str, float] = {}
        self._pending: dict[str, tuple[PriceUpdate, int]] = {}
        self._poll = max(0.01, min(0.25, options.idle_timeout / 4))

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._loop.stop(timeout)
        self.status.disconnected("stopped")

    def is_live(self, within: float) -> bool:
        """Whether valid data arrived in the last ``within`` seconds."""
        return self.last_valid_at is not None and time.monotonic() - self.last_valid_at < within

    def report(self) -> dict[str, Any]:
        """``GET /sources`` entry: live status plus what this client is subscribed to."""
        return {
            **self.status.snapshot(),
            "url": self.options.url,
            "symbols": len(self.options.symbols),
            "streams": list(self.options.streams),
            "consecutive_failures": self.backoff.failures,
        }

    def _run(self) -> None:
        while not self._stopping.is_set():
            rolled_over = False
            try:
                rolled_over = self._session()
            except ConnectionLost as exc:
                self._lost(exc.kind, exc)
            except Exception as exc:  # network, TLS, handshake, protocol: all mean "reconnect"
                self._lost(type(exc).__name__, exc)
            self.status.disconnected("backoff")
            if self._stopping.is_set() or rolled_over:
                continue
            delay = self.backoff.next_delay()
            logger.info("reconnecting to Binance in %.2fs (attempt %d)", delay, self.backoff.failures)
            self._stopping.wait(delay)

    def _lost(self, kind: str, exc: BaseException) -> None:
        self.status.error(kind, str(exc))
        logger.warning("Binance connection lost (%s): %s", kind, exc)

    def _session(self) -> bool:
        """Run one connection; return ``True`` on a planned rollover, raise when it failed."""
        opts = self.options
        self.status.set_state("connecting")
        if self._attempts:
            self.status.reconnects += 1
        self._attempts += 1
        ws = websocket.create_connection(
            opts.stream_url, timeout=opts.connect_timeout, skip_utf8_validation=True
        )
        try:
            ws.settimeout(self._poll)
            return self._read(ws)
        finally:
            ws.close(timeout=0.5)  # a no-op once the server's close frame was answered...
            ws.shutdown()  # ...so release the socket explicitly

    def _read(self, ws: websocket.WebSocket) -> bool:
        opts = self.options
        self.merger.forget()
        self._pending.clear()
        connected_at = last_valid = last_yield = last_housekeeping = time.monotonic()
        self.status.connected()
        logger.info(
            "connected to Binance (%d symbols, streams %s)", len(opts.symbols), ",".join(opts.streams)
        )
        while not self._stopping.is_set():
            try:
                opcode, data = ws.recv_data()
            except websocket.WebSocketTimeoutException:
                opcode, data = None, None
            received_ns = time.monotonic_ns()
            now = received_ns / 1e9
            if opcode in _DATA_OPCODES:
                if self._handle(data, received_ns, now):
                    last_valid = now
            elif opcode == websocket.ABNF.OPCODE_CLOSE:
                raise ConnectionLost("closed", "closed by the server")
            if now - last_housekeeping >= _HOUSEKEEPING_EVERY_S:
                last_housekeeping = now
                if now - last_valid > opts.idle_timeout:
                    raise ConnectionLost("stalled", f"no valid message for {now - last_valid:.1f}s")
                if now - connected_at >= opts.max_connection_age:
                    logger.info("rolling the Binance connection over after %.0fs", now - connected_at)
                    return True
                healthy = last_valid > connected_at and now - connected_at >= opts.healthy_after
                if self.backoff.failures and healthy:
                    self.backoff.reset()  # only a connection that really delivered earns a reset
                self._flush_pending(now)
            if now - last_yield >= _YIELD_EVERY_S:
                last_yield = now
                time.sleep(0)  # let the publisher (a green thread under eventlet) run
        return True

    def _handle(self, raw: bytes, received_ns: int, now: float) -> bool:
        self.status.message()
        try:
            event = parse_message(raw)
        except BinanceMessageError as exc:
            self.status.error(exc.reason, exc.detail)
            total = sum(self.status.errors.values())
            if total <= 10 or total % 1000 == 0:
                logger.warning("ignored Binance message (%s, %d so far): %r", exc, total, raw[:200])
            return False
        self.last_valid_at = now
        record = self.merger.apply(event, now_ms())
        interval = self.options.min_interval
        if interval <= 0:
            self._publish(record, received_ns)
        elif now - self._last_emit.get(record.symbol, 0.0) >= interval:
            self._last_emit[record.symbol] = now
            self._pending.pop(record.symbol, None)
            self._publish(record, received_ns)
        else:
            self._pending[record.symbol] = (record, received_ns)
        return True

    def _flush_pending(self, now: float) -> None:
        interval = self.options.min_interval
        for symbol, (record, _received_ns) in list(self._pending.items()):
            if now - self._last_emit.get(symbol, 0.0) >= interval:
                self._last_emit[symbol] = now
                del self._pending[symbol]
                # Latency is measured from release: the hold was deliberate, not queueing.
                self._publish(record, time.monotonic_ns())

    def _publish(self, record: PriceUpdate, received_ns: int) -> None:
        self.status.published += 1
        self._emit(record, received_ns)
