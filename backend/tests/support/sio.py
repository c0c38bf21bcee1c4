"""Real python-socketio clients that record what they receive, for assertions with deadlines."""

from __future__ import annotations

import threading
import time
from typing import Any

import socketio

from support.polling import wait_for

RECORDED_EVENTS = (
    "connected",
    "price_update",
    "price_batch",
    "arbitrage_signal",
    "cep_alert",
    "cep_signal",
    "service_status",
    "task_update",
    "circuit_state",
    "split_rollback",
    "subscription_confirmed",
    "error",
)


class RecordingClient:
    """Connects to a gateway and keeps every event (with its arrival time) in order.

    ``protocol`` is what the handshake declares: 2 (subscriptions, what these tests are about)
    unless a test says otherwise; ``None`` declares nothing, as an original ASCEP client. ``auth``
    (credentials: ``{"token": ...}`` or ``{"api_key": ...}``) is sent with it.
    """

    def __init__(
        self,
        url: str,
        transports: list[str] | None = None,
        auth: Any = None,
        protocol: int | None = 2,
    ) -> None:
        # UTF-8 validation in websocket-client is pure Python (~6 ms per 4 KB event); the gateway
        # sends valid JSON text, and the test process must not be the bottleneck.
        self.client = socketio.Client(
            reconnection=False, websocket_extra_options={"skip_utf8_validation": True}
        )
        self.received: list[tuple[str, Any, float]] = []
        self.disconnects = 0
        self._lock = threading.Lock()
        for event in RECORDED_EVENTS:
            self.client.on(event, self._recorder(event))
        self.client.on("disconnect", self._on_disconnect)
        if protocol is not None:
            auth = {**(auth or {}), "protocol": protocol}
        self.client.connect(url, transports=transports or ["websocket"], wait_timeout=10, auth=auth)

    def _recorder(self, event: str):
        def record(data: Any = None) -> None:
            with self._lock:
                self.received.append((event, data, time.time()))

        return record

    def _on_disconnect(self, *args: Any) -> None:
        self.disconnects += 1

    @property
    def sid(self) -> str:
        return self.client.get_sid()

    def call(self, event: str, data: Any = None) -> Any:
        """Emit and return the server's acknowledgement."""
        return self.client.call(event, data, timeout=10)

    def events(self, name: str) -> list[Any]:
        with self._lock:
            return [data for event, data, _ in self.received if event == name]

    def arrivals(self, name: str) -> list[tuple[Any, float]]:
        with self._lock:
            return [(data, at) for event, data, at in self.received if event == name]

    def prices(self) -> list[dict[str, Any]]:
        """Every price received, from single updates and batches alike, in arrival order."""
        with self._lock:
            out: list[dict[str, Any]] = []
            for event, data, _ in self.received:
                if event == "price_update":
                    out.append(data)
                elif event == "price_batch":
                    out.extend(data)
            return out

    def wait_events(self, name: str, count: int, timeout: float = 10.0) -> list[Any]:
        return wait_for(
            lambda: (found := self.events(name)) and len(found) >= count and found,
            timeout=timeout,
            message=f"{count} {name} events",
        )

    def wait_prices(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        return wait_for(
            lambda: (found := self.prices()) and len(found) >= count and found,
            timeout=timeout,
            message=f"{count} prices",
        )

    def close(self) -> None:
        self.client.disconnect()
